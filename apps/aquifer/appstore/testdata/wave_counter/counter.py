# A real H2O Wave app for the browser end-to-end test: it greets the user named by the router's
# identity header and counts button clicks (each click is a round trip over the WebSocket).
from urllib.parse import unquote

from h2o_wave import Q, app, main, ui  # noqa: F401 (main is the ASGI entry point `wave run` serves)


@app('/')
async def serve(q: Q):
    if not q.client.initialized:
        q.client.count = 0
        q.client.initialized = True
    if q.args.increment:
        q.client.count += 1
    # Headers of the browser's WebSocket, as waved forwards them: {Canonical-Name: [values]}.
    headers = {key.lower(): value for key, value in (q.headers or {}).items()}
    forwarded = headers.get('x-aquifer-user-name') or ['stranger']
    name = unquote(forwarded[0] if isinstance(forwarded, list) else forwarded)
    q.page['counter'] = ui.form_card(box='1 1 4 3', items=[
        ui.text_xl(f'Hello, {name}'),
        ui.text(f'Clicks: {q.client.count}'),
        ui.button(name='increment', label='Add one', primary=True),
    ])
    await q.page.save()
