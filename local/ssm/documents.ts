/**
 * SSM documents: Create/Update/Describe/Get/Delete/ListDocuments for Command documents (versions,
 * JSON <-> YAML, managed documents that cannot be changed), the managed AWS-RunShellScript, and
 * the lookups SendCommand needs (name or ARN, `$DEFAULT`/`$LATEST`/numbered versions, the parsed
 * content). The document format itself (parsing, parameters, substitution) is command-document.ts.
 */
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { pageAt } from '../kit/next-token.js';
import { LocalAwsError } from '../types.js';
import {
  AWS_RUN_SHELL_SCRIPT,
  type DocumentRecord,
  documentHash,
  type ParsedDocument,
  parseCommandDocument,
} from './command-document.js';
import { maxResults, requireString, ssmTokens, validation } from './input.js';
import type { SsmEmulatorDeps } from './service.js';

export class Documents {
  readonly records = new Map<string, DocumentRecord>();
  private readonly parsed = new Map<string, ParsedDocument>();

  constructor(
    private readonly deps: SsmEmulatorDeps,
    private readonly persist: () => void,
  ) {
    this.installManagedDocuments();
  }

  /** Creates or updates a Command document (used at startup for the project's document). */
  registerDocument(
    name: string,
    content: string,
    format: 'YAML' | 'JSON' = 'YAML',
  ): { name: string; version: string } {
    const parsed = parseCommandDocument(content, format);
    const hash = documentHash(content);
    const existing = this.records.get(name);
    const now = this.deps.clock.now().toISOString();
    if (!existing) {
      this.records.set(name, {
        name,
        documentType: 'Command',
        owner: this.deps.accountId,
        createdDate: now,
        tags: [],
        versions: [{ version: '1', content, format, createdDate: now, hash }],
        defaultVersion: '1',
      });
      this.parsed.set(`${name}:1`, parsed);
      this.persist();
      return { name, version: '1' };
    }
    const latest = existing.versions[existing.versions.length - 1]!;
    if (latest.hash === hash) {
      existing.defaultVersion = latest.version;
      return { name, version: latest.version };
    }
    const version = String(existing.versions.length + 1);
    existing.versions.push({ version, content, format, createdDate: now, hash });
    existing.defaultVersion = version;
    this.parsed.set(`${name}:${version}`, parsed);
    this.persist();
    return { name, version };
  }

  private installManagedDocuments(): void {
    const now = new Date('2024-01-01T00:00:00Z').toISOString();
    this.records.set('AWS-RunShellScript', {
      name: 'AWS-RunShellScript',
      documentType: 'Command',
      owner: 'Amazon',
      createdDate: now,
      tags: [],
      versions: [
        {
          version: '1',
          content: AWS_RUN_SHELL_SCRIPT,
          format: 'JSON',
          createdDate: now,
          hash: documentHash(AWS_RUN_SHELL_SCRIPT),
        },
      ],
      defaultVersion: '1',
    });
  }

  documentName(input: Record<string, unknown>, field = 'Name'): string {
    const raw = requireString(input, field);
    const arn = /^arn:aws[a-z-]*:ssm:[^:]*:[^:]*:document\/(.+)$/.exec(raw);
    return arn ? arn[1]! : raw;
  }

  document(name: string): DocumentRecord {
    const doc = this.records.get(name);
    if (!doc) throw new LocalAwsError('InvalidDocument', `Document with name ${name} does not exist.`);
    return doc;
  }

  version(doc: DocumentRecord, requested: unknown) {
    const wanted =
      requested === undefined || requested === '$DEFAULT'
        ? doc.defaultVersion
        : requested === '$LATEST'
          ? String(doc.versions.length)
          : String(requested);
    const version = doc.versions.find((v) => v.version === wanted);
    if (!version)
      throw new LocalAwsError(
        'InvalidDocumentVersion',
        `The document version ${String(requested)} is not valid or does not exist.`,
      );
    return version;
  }

  parsedDocument(doc: DocumentRecord, version: string): ParsedDocument {
    const key = `${doc.name}:${version}`;
    let parsed = this.parsed.get(key);
    if (!parsed) {
      const v = doc.versions.find((x) => x.version === version)!;
      parsed = parseCommandDocument(v.content, v.format);
      this.parsed.set(key, parsed);
    }
    return parsed;
  }

  private contentFormat(input: Record<string, unknown>, content: string): 'YAML' | 'JSON' {
    const format = input.DocumentFormat === undefined ? undefined : String(input.DocumentFormat);
    if (format !== undefined && format !== 'YAML' && format !== 'JSON') {
      throw validation(
        `1 validation error detected: Value '${format}' at 'documentFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, YAML]`,
      );
    }
    return (format as 'YAML' | 'JSON' | undefined) ?? (content.trim().startsWith('{') ? 'JSON' : 'YAML');
  }

  createDocument(input: Record<string, unknown>) {
    const name = requireString(input, 'Name');
    const content = requireString(input, 'Content');
    if (!/^[a-zA-Z0-9_\-.]{3,128}$/.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$`,
      );
    }
    if (/^(aws|amazon|amzn)/i.test(name))
      throw validation(`Document name prefixes "aws", "amazon" and "amzn" are reserved: ${name}`);
    const type = String(input.DocumentType ?? 'Command');
    if (type !== 'Command')
      throw validation(`The local cloud supports Command documents only (DocumentType ${type})`);
    if (Buffer.byteLength(content) > 64 * 1024)
      throw new LocalAwsError('MaxDocumentSizeExceeded', 'The size limit of a document is 64 KB.');
    if (this.records.has(name))
      throw new LocalAwsError('DocumentAlreadyExists', 'The specified document already exists.');
    const format = this.contentFormat(input, content);
    this.registerDocument(name, content, format);
    const doc = this.records.get(name)!;
    doc.tags = ((input.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((t) => ({
      Key: t.Key,
      Value: t.Value,
    }));
    doc.targetType = input.TargetType === undefined ? undefined : String(input.TargetType);
    const versionName = input.VersionName === undefined ? undefined : String(input.VersionName);
    if (versionName) doc.versions[0]!.versionName = versionName;
    this.persist();
    return { DocumentDescription: this.describeDocument({ Name: name }) };
  }

  updateDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const content = requireString(input, 'Content');
    const doc = this.document(name);
    if (doc.owner !== this.deps.accountId)
      throw new LocalAwsError('InvalidDocumentOperation', `You can't update the managed document ${name}.`);
    if (
      input.DocumentVersion !== undefined &&
      input.DocumentVersion !== '$LATEST' &&
      input.DocumentVersion !== String(doc.versions.length)
    ) {
      throw new LocalAwsError('InvalidDocumentVersion', 'Updates must be based on the $LATEST version.');
    }
    if (doc.versions.some((v) => v.hash === documentHash(content))) {
      throw new LocalAwsError(
        'DuplicateDocumentContent',
        'The content of the association document matches another document.',
      );
    }
    const format = this.contentFormat(input, content);
    const parsed = parseCommandDocument(content, format);
    const now = this.deps.clock.now().toISOString();
    const version = String(doc.versions.length + 1);
    doc.versions.push({ version, content, format, createdDate: now, hash: documentHash(content) });
    this.parsed.set(`${name}:${version}`, parsed);
    this.persist();
    return { DocumentDescription: this.describeDocument({ Name: name, DocumentVersion: version }) };
  }

  describeDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    const version = this.version(doc, input.DocumentVersion);
    const parsed = this.parsedDocument(doc, version.version);
    return {
      Hash: version.hash,
      HashType: 'Sha256',
      Name: doc.name,
      VersionName: version.versionName,
      Owner: doc.owner,
      CreatedDate: new Date(version.createdDate),
      Status: 'Active',
      DocumentVersion: version.version,
      Description: parsed.description,
      Parameters: Object.entries(parsed.parameters).map(([pname, def]) => ({
        Name: pname,
        Type: def.type,
        Description: def.description,
        DefaultValue:
          def.default === undefined
            ? undefined
            : typeof def.default === 'string'
              ? def.default
              : JSON.stringify(def.default),
      })),
      PlatformTypes: ['Linux', 'MacOS'],
      DocumentType: 'Command',
      SchemaVersion: parsed.schemaVersion,
      LatestVersion: String(doc.versions.length),
      DefaultVersion: doc.defaultVersion,
      DocumentFormat: version.format,
      TargetType: doc.targetType,
      Tags: doc.tags,
    };
  }

  getDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    const version = this.version(doc, input.DocumentVersion);
    const wanted = input.DocumentFormat === undefined ? version.format : String(input.DocumentFormat);
    let content = version.content;
    if (wanted !== version.format) {
      const value = version.format === 'JSON' ? JSON.parse(content) : parseYaml(content);
      content = wanted === 'JSON' ? JSON.stringify(value, null, 2) : toYaml(value);
    }
    return {
      Name: doc.name,
      CreatedDate: new Date(version.createdDate),
      VersionName: version.versionName,
      DocumentVersion: version.version,
      Status: 'Active',
      Content: content,
      DocumentType: 'Command',
      DocumentFormat: wanted,
    };
  }

  deleteDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    if (doc.owner !== this.deps.accountId)
      throw new LocalAwsError('InvalidDocumentOperation', `You can't delete the managed document ${name}.`);
    this.records.delete(name);
    this.persist();
    return {};
  }

  listDocuments(input: Record<string, unknown>) {
    const limit = maxResults(input, 1, 50, 50);
    const offset = ssmTokens.decode(input.NextToken);
    const docs = [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { items: page, nextToken } = pageAt(docs, offset, limit, ssmTokens);
    return {
      DocumentIdentifiers: page.map((doc) => {
        const version = this.version(doc, undefined);
        return {
          Name: doc.name,
          CreatedDate: new Date(doc.createdDate),
          Owner: doc.owner,
          PlatformTypes: ['Linux', 'MacOS'],
          DocumentVersion: version.version,
          DocumentType: 'Command',
          SchemaVersion: this.parsedDocument(doc, version.version).schemaVersion,
          DocumentFormat: version.format,
          TargetType: doc.targetType,
          Tags: doc.tags,
        };
      }),
      NextToken: nextToken,
    };
  }
}
