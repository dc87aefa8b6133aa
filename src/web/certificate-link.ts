/**
 * Where a certificate link, a QR payload or the page's own address says the certificate is.
 * Accepted: the verify link the PDF's QR code holds (`https://center/verify#cert=/v1/certificates/ID`,
 * or `?cert=`), a certificate URL itself (`https://center/v1/certificates/ID`), or a path
 * (`/v1/certificates/ID`) resolved against `base`. Returns undefined for anything else.
 */
export function certificateUrlOf(input: string, base: string | null): URL | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  let outer: URL | undefined;
  try {
    outer = new URL(text, base ?? undefined);
  } catch {
    return undefined;
  }
  const param = certParam(outer);
  if (param !== undefined) {
    try {
      // The link inside is relative to the verify page's own address (the center).
      const inner = new URL(param, /^https?:$/.test(outer.protocol) ? outer : (base ?? undefined));
      return /^https?:$/.test(inner.protocol) ? inner : undefined;
    } catch {
      return undefined;
    }
  }
  return /^https?:$/.test(outer.protocol) ? outer : undefined;
}

/** The `cert` parameter of a verify link: in the fragment (`#cert=`) or the query (`?cert=`). */
export function certParam(url: URL): string | undefined {
  const fromHash = new URLSearchParams(url.hash.replace(/^#/, '')).get('cert');
  const value = fromHash ?? url.searchParams.get('cert');
  return value === null || value === '' ? undefined : value;
}
