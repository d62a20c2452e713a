#!/usr/bin/env bash
# Runs a command next to a real S3-compatible server on 127.0.0.1: moto's server, with
# request signatures enforced. moto lets the first 3 requests through unsigned; they create
# an IAM user, its access key and a policy allowing s3:*. From then on every request must be
# signed with that key, so the tests check mlv's SigV4 signing on every call they make.
# Exported for the command:
#   MLV_TEST_S3_ENDPOINT  http://127.0.0.1:PORT
#   MLV_TEST_S3_KEY / MLV_TEST_S3_SECRET   the access key
#   MLV_TEST_S3_PYTHON    a python3 with moto and boto3 (the tests' fault-injecting proxy)
# (Tests/Scripts/moto_server.py: moto with its query canonicalisation made to match S3.)
# Usage: Tests/Scripts/s3-server.sh swift test
set -euo pipefail
cd "$(dirname "$0")/../.."

python=python3
if ! $python -c 'import moto.server, boto3' 2>/dev/null; then
  # A private virtualenv keeps pip away from the system's Python.
  venv=.build/moto-venv
  if [ ! -x $venv/bin/python ] || ! $venv/bin/python -c 'import moto.server, boto3' 2>/dev/null; then
    echo "s3-server: installing moto[server] into $venv" >&2
    python3 -m venv $venv
    $venv/bin/python -m pip install -q 'moto[server]'
  fi
  python=$PWD/$venv/bin/python
fi

port=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
INITIAL_NO_AUTH_ACTION_COUNT=3 $python Tests/Scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT

read -r key secret < <($python - "$port" <<'PY'
import json, socket, sys, time
import boto3
port = int(sys.argv[1])
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("moto server did not start")
iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="mlv-tests")
k = iam.create_access_key(UserName="mlv-tests")["AccessKey"]
iam.put_user_policy(UserName="mlv-tests", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
) || { echo "s3-server: moto did not come up; its log:" >&2; cat "$log" >&2; exit 1; }

export MLV_TEST_S3_ENDPOINT="http://127.0.0.1:$port" MLV_TEST_S3_KEY="$key" MLV_TEST_S3_SECRET="$secret" MLV_TEST_S3_PYTHON="$python"
echo "s3-server: moto on $MLV_TEST_S3_ENDPOINT (signatures checked)" >&2
"$@"
