#!/usr/bin/env bash
# Creates SoftHSM2 tokens in a temporary directory and prints the environment
# the softhsm tests read (source its output: `eval "$(crates/citysec-pkcs11/softhsm-env.sh)"`).
# Needs Debian's softhsm2 (softhsm2-util, /usr/lib/softhsm/libsofthsm2.so).
set -euo pipefail
module=${CITYSEC_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
dir=$(mktemp -d "${TMPDIR:-/tmp}/citysec-softhsm.XXXXXX")
mkdir -p "$dir/tokens"
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
so_pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
for label in citysec-test citysec-removable; do
    softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >/dev/null
done
# A key of a type citysec does not sign with (P-384), for the wrong-type tests.
here=$(cd "$(dirname "$0")" && pwd)
softhsm2-util --import "$here/tests/data/p384-test-key.pem" --token citysec-test \
    --label wrong-type-p384 --id 0384 --pin "$pin" >/dev/null
printf '%s\n' "$pin" >"$dir/pin"
chmod 600 "$dir/pin"
echo "export SOFTHSM2_CONF='$SOFTHSM2_CONF'"
echo "export CITYSEC_PKCS11_MODULE='$module'"
echo "export CITYSEC_PKCS11_PIN_FILE='$dir/pin'"
echo "export CITYSEC_SOFTHSM_DIR='$dir'"
