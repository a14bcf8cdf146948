/**
 * The checksums of a scope on the file system, for `checksum` verification. Only a Lustre client
 * can read the files, so a script runs there (the transfer document's `checksums` step on the
 * transfer instance; a unit test keeps its copy equal to `CHECKSUM_SCRIPT`) and writes:
 *
 *     FSXT-CHECKSUMS v1
 *     COUNT <files>
 *     <path><TAB><size><TAB><ALGORITHM>=<base64>[,<ALGORITHM>=<base64>...]
 *
 * one line per regular file (symbolic links followed, as `aws s3 sync` does), sorted bytewise,
 * paths relative to the scope and escaped as in the listing (`\\` and `\n`). Every file gets MD5,
 * CRC32, SHA1 and SHA256 (Python's standard library, one read); CRC32C and CRC64NVME come from
 * `awscrt` when it is installed (Amazon Linux 2023's AWS CLI package brings it), otherwise from a
 * pure-Python CRC for files up to `PURE_CRC_LIMIT` bytes only (it is slow). A file lacking the
 * algorithm of its S3 checksum is then checked another way or counted as size-only.
 */

export const CHECKSUMS_HEADER = 'FSXT-CHECKSUMS v1';

/** Largest file whose CRC32C / CRC64NVME the script computes without awscrt (pure Python, ~5 MB/s). */
export const PURE_CRC_LIMIT = 1024 * 1024;

/**
 * The script (Python 3.8+, standard library; `python3 - <dir> [<include> <exclude> [<start> <end>]]`);
 * printed to standard output. The optional filters are the `aws s3 sync` globs of the scope,
 * separated by spaces, matched against the path relative to `dir` as the CLI does (fnmatch, the
 * last match wins, so an exclude beats an include): files the sync skips are not read. `start` and
 * `end` are a scale-out shard's key range (start <= path < end, shared/ec2/shards.ts; empty for
 * unbounded): each shard instance reads only the files it copied.
 */
export const CHECKSUM_SCRIPT: readonly string[] = [
  'import base64, fnmatch, hashlib, os, sys, zlib',
  'try:',
  '    from awscrt import checksums as crt',
  '    crt.crc64nvme(b"", 0)',
  'except Exception:',
  '    crt = None',
  `PURE_LIMIT = ${PURE_CRC_LIMIT}`,
  '',
  'def table(poly):',
  '    rows = []',
  '    for n in range(256):',
  '        c = n',
  '        for _ in range(8):',
  '            c = (c >> 1) ^ poly if c & 1 else c >> 1',
  '        rows.append(c)',
  '    return rows',
  '',
  'PURE = dict(CRC32C=(table(0x82F63B78), 0xFFFFFFFF, 4), CRC64NVME=(table(0x9A6C9329AC4BC9B5), 0xFFFFFFFFFFFFFFFF, 8))',
  '',
  'def pure_update(name, crc, data):',
  '    rows = PURE[name][0]',
  '    for b in data:',
  '        crc = rows[(crc ^ b) & 0xFF] ^ (crc >> 8)',
  '    return crc',
  '',
  'def checksums(path, size):',
  '    hashes = dict(MD5=hashlib.md5(), SHA1=hashlib.sha1(), SHA256=hashlib.sha256())',
  '    crc32 = 0',
  '    crcs = dict()',
  '    if crt is not None:',
  '        crcs = dict(CRC32C=0, CRC64NVME=0)',
  '    elif size <= PURE_LIMIT:',
  '        crcs = dict((name, PURE[name][1]) for name in PURE)',
  '    with open(path, "rb") as f:',
  '        while True:',
  '            chunk = f.read(8 << 20)',
  '            if not chunk:',
  '                break',
  '            for h in hashes.values():',
  '                h.update(chunk)',
  '            crc32 = zlib.crc32(chunk, crc32)',
  '            for name in crcs:',
  '                if crt is not None:',
  '                    crcs[name] = crt.crc32c(chunk, crcs[name]) if name == "CRC32C" else crt.crc64nvme(chunk, crcs[name])',
  '                else:',
  '                    crcs[name] = pure_update(name, crcs[name], chunk)',
  '    out = [("MD5", base64.b64encode(hashes["MD5"].digest())), ("CRC32", base64.b64encode(crc32.to_bytes(4, "big")))]',
  '    for name, value in crcs.items():',
  '        width = 4 if name == "CRC32C" else 8',
  '        if crt is None:',
  '            value ^= PURE[name][1]',
  '        out.append((name, base64.b64encode(value.to_bytes(width, "big"))))',
  '    out += [("SHA1", base64.b64encode(hashes["SHA1"].digest())), ("SHA256", base64.b64encode(hashes["SHA256"].digest()))]',
  '    return b",".join(name.encode() + b"=" + value for name, value in out)',
  '',
  'INCLUDE = sys.argv[2].split() if len(sys.argv) > 2 else []',
  'EXCLUDE = sys.argv[3].split() if len(sys.argv) > 3 else []',
  '',
  'START = sys.argv[4] if len(sys.argv) > 4 else ""',
  'END = sys.argv[5] if len(sys.argv) > 5 else ""',
  '',
  'def wanted(rel):',
  '    name = os.fsdecode(rel)',
  '    if (START and name < START) or (END and name >= END):',
  '        return False',
  '    ok = not INCLUDE or any(fnmatch.fnmatchcase(name, glob) for glob in INCLUDE)',
  '    return ok and not any(fnmatch.fnmatchcase(name, glob) for glob in EXCLUDE)',
  '',
  'root = os.fsencode(sys.argv[1])',
  'lines = []',
  'if os.path.isdir(root):',
  '    for parent, dirs, files in os.walk(root, followlinks=True):',
  '        for name in files:',
  '            path = os.path.join(parent, name)',
  '            if not os.path.isfile(path):',
  '                continue',
  '            rel = os.path.relpath(path, root)',
  '            if not wanted(rel):',
  '                continue',
  '            size = os.path.getsize(path)',
  '            rel = rel.replace(b"\\\\", b"\\\\\\\\").replace(b"\\n", b"\\\\n")',
  '            lines.append(rel + b"\\t" + str(size).encode() + b"\\t" + checksums(path, size))',
  'lines.sort()',
  'out = sys.stdout.buffer',
  'out.write(b"FSXT-CHECKSUMS v1\\nCOUNT " + str(len(lines)).encode() + b"\\n")',
  'for line in lines:',
  '    out.write(line + b"\\n")',
];

/** One file's checksums as the script computed them, by algorithm (MD5 in base64 too). */
export interface FileChecksums {
  path: string;
  size: number;
  checksums: Record<string, string>;
}

const unescapePath = (path: string) =>
  path.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));

/**
 * Parses the script's output.
 * @throws Error naming what is malformed (no header, a bad record, fewer records than COUNT).
 */
export function parseChecksumListing(text: string): Map<string, FileChecksums> {
  const lines = text.split('\n');
  const start = lines.indexOf(CHECKSUMS_HEADER);
  if (start < 0) throw new Error(`malformed checksum listing: no "${CHECKSUMS_HEADER}" line`);
  const countLine = lines[start + 1] ?? '';
  const count = Number(countLine.replace(/^COUNT /, ''));
  if (!countLine.startsWith('COUNT ') || !Number.isSafeInteger(count)) {
    throw new Error(`malformed checksum listing: expected a COUNT line, got ${JSON.stringify(countLine)}`);
  }
  const files = new Map<string, FileChecksums>();
  for (const record of lines.slice(start + 2, -1)) {
    const last = record.lastIndexOf('\t');
    const middle = record.lastIndexOf('\t', last - 1);
    const size = Number(record.slice(middle + 1, last));
    if (middle <= 0 || !/^\d+$/.test(record.slice(middle + 1, last))) {
      throw new Error(`malformed checksum record ${JSON.stringify(record.slice(0, 200))}`);
    }
    const checksums: Record<string, string> = {};
    for (const pair of record.slice(last + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) checksums[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const path = unescapePath(record.slice(0, middle));
    files.set(path, { path, size, checksums });
  }
  if (files.size !== count)
    throw new Error(`malformed checksum listing: ${files.size} records but COUNT ${count}`);
  return files;
}
