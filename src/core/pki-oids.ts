/** Object identifiers used by the CMS and RFC 3161 code, each with the document that assigns it. */

/** id-data, RFC 5652 §4. */
export const OID_DATA = '1.2.840.113549.1.7.1';
/** id-signedData, RFC 5652 §5.1. */
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
/** id-ct-TSTInfo, RFC 3161 §2.4.2. */
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';

/** Signed attributes: content-type, message-digest, signing-time (RFC 5652 §11.1–11.3). */
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_ATTR_SIGNING_TIME = '1.2.840.113549.1.9.5';
/** ESS signing-certificate (RFC 2634 §5.4, SHA-1) and signing-certificate-v2 (RFC 5035 §3). */
export const OID_ATTR_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
export const OID_ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
/** id-aa-signatureTimeStampToken (RFC 3161 appendix A): an unsigned attribute, a token over the signature value. */
export const OID_ATTR_SIGNATURE_TIME_STAMP = '1.2.840.113549.1.9.16.2.14';

/** Digest algorithms: SHA-1 (RFC 3370 §2.1) and SHA-2 (RFC 5754 §2). */
export const OID_SHA1 = '1.3.14.3.2.26';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3';

/** Signature algorithms: rsaEncryption (RFC 3370 §3.2), ecdsa-with-SHA256 (RFC 5754 §3.3). */
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** Certificate extensions, RFC 5280 §4.2.1. */
export const OID_EXT_KEY_USAGE = '2.5.29.15';
export const OID_EXT_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_EXT_CERTIFICATE_POLICIES = '2.5.29.32';
export const OID_EXT_EXTENDED_KEY_USAGE = '2.5.29.37';
export const OID_EXT_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_EXT_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** Key purposes, RFC 5280 §4.2.1.12, and id-kp-documentSigning, RFC 9336. */
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
export const OID_KP_EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const OID_KP_DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';
/** anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
export const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** Revocation services a certificate may name: cRLDistributionPoints (RFC 5280 §4.2.1.13) and authorityInfoAccess (§4.2.2.1) with id-ad-ocsp. */
export const OID_EXT_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
export const OID_EXT_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
