#!/usr/bin/env bash
# Makes a private CA and the certificate of Central's monitor port, for a deployment on three PCs:
#
#   bash scripts/tls-certs.sh <dir> <address of PC2>...     e.g. tls-certs.sh certs 192.168.1.20
#
# Every address (IP or host name) by which monitors reach Central goes into the certificate.
# Writes, readable by this user only:
#   <dir>/ca.pem                          give it to every monitor:  EV_CP_M … --tls-ca ca.pem
#   <dir>/central.pem, central-key.pem    for Central:  EV_Central … --tls-cert central.pem --tls-key central-key.pem
#   <dir>/ca-key.pem                      keep it safe (it signs certificates), or delete it.
# Needs openssl (Debian: apt-get install -y openssl).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash scripts/tls-certs.sh <dir> <address of Central>..." >&2
  exit 2
fi
command -v openssl >/dev/null 2>&1 || {
  echo "error: openssl is needed to make certificates: apt-get install -y openssl" >&2
  exit 1
}
dir=$1
shift
names=()
for a in "$@"; do
  if [[ $a =~ ^[0-9.]+$ || $a == *:* ]]; then names+=("IP:$a"); else names+=("DNS:$a"); fi
done
san=$(IFS=,; echo "${names[*]}")
umask 077
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca-key.pem -out ca.pem -days 3650 \
  -subj "/CN=EVCharging private CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req "${ec[@]}" -keyout central-key.pem -out central.csr -subj "/CN=EV_Central" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$san" >central.ext
openssl x509 -req -in central.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out central.pem \
  -days 825 -extfile central.ext 2>/dev/null
rm -f central.csr central.ext ca.srl
echo "made $dir/ca.pem (for the monitors), $dir/central.pem and $dir/central-key.pem (for Central), for $san"
