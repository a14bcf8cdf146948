/**
 * Decoder for the `aws-chunked` body encoding (SigV4 streaming uploads, `x-amz-content-sha256:
 * STREAMING-...`, and the SDK's trailing-checksum uploads). s3rver would store the framing and the
 * checksum trailer as object data, so the router strips it before forwarding:
 * `<hex size>[;chunk-signature=..]\r\n<data>\r\n ... 0[;..]\r\n[trailer lines]\r\n`.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class AwsChunkedDecoder extends Transform {
  private state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  private line = '';
  private remaining = 0;
  private skipCrlf = 0;
  private trailerText = '';
  /** The trailer headers (lower-case names), complete once the stream has ended. */
  readonly trailers = new Map<string, string>();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    try {
      while (offset < chunk.length) {
        if (this.state === 'size') {
          const newline = chunk.indexOf(0x0a, offset);
          if (newline === -1) {
            this.line += chunk.toString('latin1', offset);
            if (this.line.length > 4096) throw new Error('aws-chunked: chunk header too long');
            callback();
            return;
          }
          this.line += chunk.toString('latin1', offset, newline);
          offset = newline + 1;
          const sizeText = this.line.replace(/\r$/, '').split(';')[0]!.trim();
          this.line = '';
          if (sizeText === '') continue;
          if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`aws-chunked: bad chunk size "${sizeText}"`);
          this.remaining = Number.parseInt(sizeText, 16);
          this.state = this.remaining === 0 ? 'trailer' : 'data';
        } else if (this.state === 'data') {
          const take = Math.min(this.remaining, chunk.length - offset);
          this.push(chunk.subarray(offset, offset + take));
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = 'data-end';
            this.skipCrlf = 2;
          }
        } else if (this.state === 'data-end') {
          // Skip the CRLF after a chunk's data.
          while (this.skipCrlf > 0 && offset < chunk.length) {
            offset += 1;
            this.skipCrlf -= 1;
          }
          if (this.skipCrlf === 0) this.state = 'size';
        } else {
          // Trailer headers (checksums) and the final CRLF carry no object data: keep them for
          // the checksum validation.
          this.trailerText += chunk.toString('latin1', offset);
          if (this.trailerText.length > 8192) throw new Error('aws-chunked: trailer too long');
          callback();
          return;
        }
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    for (const line of this.trailerText.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    callback();
  }
}

/** True when the request body uses the aws-chunked encoding. */
export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  const encoding = String(headers['content-encoding'] ?? '');
  return sha.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked');
}
