/** The few XML documents the local OSS server writes, shaped as OSS writes them. */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** `<Error>` body: ali-oss reads Code, Message, RequestId and HostId from it. */
export function errorXml(code: string, message: string, requestId: string, hostId: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries({ Code: code, Message: message, RequestId: requestId, HostId: hostId, ...extra })
    .map(([k, v]) => `  <${k}>${escapeXml(v)}</${k}>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${fields}\n</Error>\n`;
}

export interface ListEntry {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

export interface ListResult {
  readonly bucket: string;
  readonly version: 1 | 2;
  readonly prefix: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** V1 `Marker` or V2 `StartAfter` / `ContinuationToken` echoed back. */
  readonly marker?: string;
  readonly continuationToken?: string;
  readonly entries: readonly ListEntry[];
  readonly commonPrefixes: readonly string[];
  readonly truncated: boolean;
  readonly next?: string;
  /** `encoding-type=url`: keys and prefixes are URL-encoded in the response. */
  readonly urlEncode: boolean;
}

export function listXml(r: ListResult): string {
  const enc = (s: string) => escapeXml(r.urlEncode ? encodeURIComponent(s) : s);
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`, `<ListBucketResult>`, `  <Name>${escapeXml(r.bucket)}</Name>`, `  <Prefix>${enc(r.prefix)}</Prefix>`];
  if (r.version === 1) lines.push(`  <Marker>${enc(r.marker ?? '')}</Marker>`);
  else {
    if (r.marker !== undefined) lines.push(`  <StartAfter>${enc(r.marker)}</StartAfter>`);
    if (r.continuationToken !== undefined) lines.push(`  <ContinuationToken>${escapeXml(r.continuationToken)}</ContinuationToken>`);
    lines.push(`  <KeyCount>${r.entries.length + r.commonPrefixes.length}</KeyCount>`);
  }
  lines.push(`  <MaxKeys>${r.maxKeys}</MaxKeys>`);
  if (r.delimiter !== undefined) lines.push(`  <Delimiter>${enc(r.delimiter)}</Delimiter>`);
  if (r.urlEncode) lines.push(`  <EncodingType>url</EncodingType>`);
  lines.push(`  <IsTruncated>${r.truncated}</IsTruncated>`);
  if (r.truncated && r.next !== undefined) {
    lines.push(r.version === 1 ? `  <NextMarker>${enc(r.next)}</NextMarker>` : `  <NextContinuationToken>${escapeXml(r.next)}</NextContinuationToken>`);
  }
  for (const e of r.entries) {
    lines.push(
      `  <Contents>`,
      `    <Key>${enc(e.key)}</Key>`,
      `    <LastModified>${e.lastModified.toISOString()}</LastModified>`,
      `    <ETag>"${e.etag}"</ETag>`,
      `    <Type>Normal</Type>`,
      `    <Size>${e.size}</Size>`,
      `    <StorageClass>Standard</StorageClass>`,
      `    <Owner>`,
      `      <ID>0</ID>`,
      `      <DisplayName>imgpipe-local</DisplayName>`,
      `    </Owner>`,
      `  </Contents>`,
    );
  }
  for (const p of r.commonPrefixes) lines.push(`  <CommonPrefixes>`, `    <Prefix>${enc(p)}</Prefix>`, `  </CommonPrefixes>`);
  lines.push(`</ListBucketResult>`);
  return `${lines.join('\n')}\n`;
}
