// Test fixture: a workload that crashes with exit code 3 about a second after it starts.
console.log("starting, crashing soon")
setTimeout(() => {
  console.error("crashing now")
  process.exit(3)
}, 1000)
