#!/usr/bin/env bash
# The kubeline side of the box: namespaces, RBAC and artifact repositories (kubectl apply -k
# manifests/box), the S3 credentials as Secret kubeline-s3 (random, made once per cluster;
# never written to a file), the buckets, and .kubeline/cluster/kubeline.yaml.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KUBECTL="${KUBECTL:-$("$CLUSTER_SCRIPTS/build.sh" kubectl)}"
MOTO_PY="$CACHE_ROOT/moto-venv/bin/python"

kc apply -k "$REPO/manifests/box" >"$LOGS/box-apply.log" \
    || fail "kubectl apply -k manifests/box failed; see ${LOGS#"$REPO"/}/box-apply.log"
for ns in kubeline argo-examples; do
    if ! kc -n "$ns" get secret kubeline-s3 >/dev/null 2>&1; then
        kc -n "$ns" create secret generic kubeline-s3 \
            --from-literal=accessKey="box$(openssl rand -hex 6)" --from-literal=secretKey="$(openssl rand -hex 20)" >/dev/null
    fi
done
# The buckets (moto accepts any key; real S3 would check the Secret's).
"${IN_NS[@]}" "$MOTO_PY" - "$S3_INNER" "$S3_BUCKET" argo-examples <<'EOF'
import sys
import boto3
s3 = boto3.client("s3", endpoint_url=f"http://{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="box", aws_secret_access_key="box")
have = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
for bucket in sys.argv[2:]:
    if bucket not in have:
        s3.create_bucket(Bucket=bucket)
EOF
cp "$REPO/manifests/box/kubeline.yaml" "$STATE/kubeline.yaml"
say "workspace ready: namespace kubeline, datastores on s3://$S3_BUCKET"
