"""Drives Aquifer's Drive with boto3 and its defaults (flexible checksums on), as a user would.

Environment: DRIVE_ENDPOINT, DRIVE_BUCKET, DRIVE_WORKDIR, and either AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY or DRIVE_WEB_IDENTITY_TOKEN (then credentials come from STS
AssumeRoleWithWebIdentity on the same endpoint). Prints one JSON object with what it saw.
"""
import hashlib
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint = os.environ["DRIVE_ENDPOINT"]
bucket = os.environ["DRIVE_BUCKET"]
workdir = os.environ["DRIVE_WORKDIR"]
config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
result = {"boto3": boto3.__version__}

token = os.environ.get("DRIVE_WEB_IDENTITY_TOKEN")
if token:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", config=config)
    assumed = sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::aquifer:role/drive", RoleSessionName="boto3-test", WebIdentityToken=token, DurationSeconds=900
    )
    creds = assumed["Credentials"]
    result["sts_access_key"] = creds["AccessKeyId"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"]
    )
else:
    session = boto3.session.Session()

s3 = session.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=config)
result["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
if bucket not in result["buckets"]:
    s3.create_bucket(Bucket=bucket)

small = os.urandom(1000) + "ünïcødé".encode()
s3.put_object(Bucket=bucket, Key="boto3/small.bin", Body=small, Metadata={"source": "boto3"})
got = s3.get_object(Bucket=bucket, Key="boto3/small.bin")
result["small_equal"] = got["Body"].read() == small
result["small_metadata"] = got["Metadata"]

big_path = os.path.join(workdir, "big.bin")
with open(big_path, "wb") as f:
    f.write(os.urandom(12 * 1024 * 1024 + 7))
transfer = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_file(big_path, bucket, "boto3/big.bin", Config=transfer)
back_path = os.path.join(workdir, "big.back")
s3.download_file(bucket, "boto3/big.bin", back_path, Config=transfer)
digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
result["big_equal"] = digest(big_path) == digest(back_path)

s3.copy_object(Bucket=bucket, Key="boto3/copy.bin", CopySource={"Bucket": bucket, "Key": "boto3/small.bin"})
listed = s3.list_objects_v2(Bucket=bucket, Prefix="boto3/")
result["listed"] = sorted(o["Key"] for o in listed.get("Contents", []))
ranged = s3.get_object(Bucket=bucket, Key="boto3/small.bin", Range="bytes=10-19")["Body"].read()
result["range_equal"] = ranged == small[10:20]
deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in result["listed"]]})
result["deleted"] = sorted(d["Key"] for d in deleted.get("Deleted", []))
result["left"] = s3.list_objects_v2(Bucket=bucket, Prefix="boto3/").get("KeyCount")
try:
    s3.get_object(Bucket=bucket, Key="boto3/small.bin")
    result["missing_error"] = None
except s3.exceptions.NoSuchKey:
    result["missing_error"] = "NoSuchKey"
json.dump(result, sys.stdout)
