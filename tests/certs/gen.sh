#!/usr/bin/env bash
# tests/certs/gen.sh DIR -- a throwaway PKI for the TLS tests, made with
# openssl at test time (no key is ever committed):
#   ca.pem / ca.key            the test CA
#   server.pem / server.key    signed by it, SAN IP:127.0.0.1, DNS:localhost
#   client.pem / client.key    signed by it, for mTLS (extendedKeyUsage clientAuth)
#   rogue-ca.pem               another CA nobody trusts ...
#   rogue-server.pem/.key      ... and a server cert it signed (same SANs)
#   wrongname.pem/.key         signed by ca.pem, but for DNS:not-this-host.invalid only
#   server-chain.pem           server.pem + ca.pem
# Keys are 0600.  Takes about a second (EC P-256 keys).
set -eu
D=${1:?usage: gen.sh DIR}
mkdir -p "$D"
cd "$D"
umask 077
days=2
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days $days -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem" 2>/dev/null
}
leaf() { # leaf NAME CA CN EXT
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -sha256 -days $days \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
srv_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
cli_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
ca ca "luagate test CA"
leaf server ca localhost "$srv_ext"
leaf client ca "luagate test client" "$cli_ext"
ca rogue-ca "rogue test CA"
leaf rogue-server rogue-ca localhost "$srv_ext"
leaf wrongname ca not-this-host.invalid "${srv_ext%%subjectAltName=*}subjectAltName=DNS:not-this-host.invalid"
cat server.pem ca.pem >server-chain.pem
chmod 0644 ./*.pem
chmod 0600 ./*.key
