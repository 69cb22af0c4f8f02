#!/usr/bin/env bash
# sign.sh FILE: Authenticode-signs a Windows program in place with
# osslsigncode, using the certificate in the environment:
#   LIFEBOAT_SIGN_CERT       certificate chain, PEM (or DER / SPC)
#   LIFEBOAT_SIGN_KEY        its private key, PEM or DER
#   LIFEBOAT_SIGN_PASS_FILE  optional: a file holding the key's password
#   LIFEBOAT_SIGN_TIMESTAMP  optional: an RFC 3161 time-stamp server URL, so
#                            the signature outlives the certificate
#   LIFEBOAT_SIGN_LOG        optional: a file to which each signed file's name
#                            is appended (dist-test counts them: the program,
#                            the uninstaller inside the setup, the setup)
# The password is read from a file, never passed on a command line where
# other users' `ps` could see it.
set -euo pipefail

file=${1:?usage: sign.sh FILE}
: "${LIFEBOAT_SIGN_CERT:?sign.sh: set LIFEBOAT_SIGN_CERT}"
: "${LIFEBOAT_SIGN_KEY:?sign.sh: set LIFEBOAT_SIGN_KEY}"

args=(sign -certs "$LIFEBOAT_SIGN_CERT" -key "$LIFEBOAT_SIGN_KEY" -h sha256
  -n "${LIFEBOAT_SIGN_NAME:-Lifeboat}")
[[ -n "${LIFEBOAT_SIGN_URL:-}" ]] && args+=(-i "$LIFEBOAT_SIGN_URL")
[[ -n "${LIFEBOAT_SIGN_PASS_FILE:-}" ]] && args+=(-readpass "$LIFEBOAT_SIGN_PASS_FILE")
[[ -n "${LIFEBOAT_SIGN_TIMESTAMP:-}" ]] && args+=(-ts "$LIFEBOAT_SIGN_TIMESTAMP")

# Sign into a temporary file and rename it over the original, so a failed
# signing never leaves a half-written program behind.
tmp="$file.signing.$$"
trap 'rm -f "$tmp"' EXIT
osslsigncode "${args[@]}" -in "$file" -out "$tmp" >/dev/null
mv -f "$tmp" "$file"
if [[ -n "${LIFEBOAT_SIGN_LOG:-}" ]]; then echo "$file" >>"$LIFEBOAT_SIGN_LOG"; fi
