/**
 * AWS query protocol (EC2, STS): form-encoded `Action=...&Version=...` requests and XML responses.
 *
 * EC2 responses: `<XResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId/>...`
 * (no Result wrapper, lists as `<item>`); EC2 errors: `<Response><Errors><Error><Code/><Message/>
 * </Error></Errors><RequestID/></Response>`. Other query services (STS): `<XResponse><XResult>...
 * </XResult><ResponseMetadata><RequestId/></ResponseMetadata></XResponse>` (lists as `<member>`),
 * errors `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 * These are the shapes the SDK v3 (`AwsEc2QueryProtocol`/`AwsQueryProtocol`) and botocore
 * (`EC2QueryParser`/`QueryParser`) parse.
 */
import type { LocalAwsError } from '../types.js';

export type XmlValue = string | number | boolean | Date | null | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<name>value</name>`; arrays become `<name><item>..</item></name>` (`listItem` = item | member). */
export function xmlElement(name: string, value: XmlValue, listItem = 'item'): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    return `<${name}>${value.map((v) => xmlElement(listItem, v, listItem)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => xmlElement(k, v, listItem))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** An EC2 success response: `<ActionResponse xmlns=...><requestId/>...fields...</ActionResponse>`. */
export function ec2Response(action: string, requestId: string, body: XmlObject): string {
  const inner = Object.entries(body)
    .map(([k, v]) => xmlElement(k, v, 'item'))
    .join('');
  return `${XML_DECLARATION}<${action}Response xmlns="${EC2_NAMESPACE}"><requestId>${escapeXml(requestId)}</requestId>${inner}</${action}Response>`;
}

/** A query (STS-style) success response with the `<ActionResult>` wrapper and ResponseMetadata. */
export function queryResponse(
  action: string,
  namespace: string,
  requestId: string,
  result: XmlObject,
): string {
  return `${XML_DECLARATION}<${action}Response xmlns="${namespace}">${xmlElement(`${action}Result`, result, 'member')}<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`;
}

export function ec2ErrorXml(error: LocalAwsError, requestId: string): string {
  return `${XML_DECLARATION}<Response><Errors><Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
}

export function queryErrorXml(error: LocalAwsError, requestId: string, namespace = STS_NAMESPACE): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return `${XML_DECLARATION}<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
}

/** Decodes a form body (or query string) into flat params (`TagSpecification.1.Tag.1.Key` -> value). */
export function parseForm(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) params[key] = value;
  return params;
}

export type NestedParams = { [key: string]: string | NestedParams | NestedParams[] | string[] };

/**
 * Turns flat query params into nested objects: numeric segments (1-based, as the query
 * serializers write them) become arrays in index order: `Filter.1.Value.2=x` ->
 * `{Filter: [{Value: [.., 'x']}]}`.
 */
export function nestParams(params: Record<string, string>): NestedParams {
  const root: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(params)) {
    const parts = path.split('.');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = value;
        return;
      }
      const next = node[part];
      if (!next || typeof next !== 'object') node[part] = {};
      node = node[part] as Record<string, unknown>;
    });
  }
  const convert = (value: unknown): unknown => {
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
      return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => convert(v));
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, convert(v)]));
  };
  return convert(root) as NestedParams;
}
