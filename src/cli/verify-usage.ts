/** The usage of `archive-seal verify`, apart from its code so that help loads nothing else. */
export const VERIFY_USAGE = `archive-seal verify FILE CERT [--trust ROOT.pem]... [--center URL [--fingerprint HEX]] [--rpc URL]...
                    [--tsa-trust ROOT.pem]... [--allow-development] [--json]
  Checks FILE against the certificate CERT: digests, record, leaf, Merkle path, RFC 3161 token,
  the center's signature and its chain to a root YOU name, and (with --rpc) each anchor on its chain.
  Nothing is trusted by default. --trust: the center's root certificate (PEM). --center URL: fetch
  the center's root from it and print its SHA-256 fingerprint (compare it with the center's public
  notice); --fingerprint HEX: refuse any other root. --tsa-trust: the root of an outside TSA, for
  the timestamp only. --allow-development: accept the development PKI and chains (tests only; their
  keys are public). Exit 0 AUTHENTIC, 1 NOT AUTHENTIC, 3 CANNOT BE DETERMINED, 2 usage or
  unreadable input (a center that cannot be reached, a fingerprint that does not match).`;
