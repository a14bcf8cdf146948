/**
 * SSM Command documents: parsing (YAML or JSON, schemaVersion 2.2/2.0), parameter validation as
 * SendCommand does it (`allowedPattern`, `allowedValues`, types, defaults -> InvalidParameters),
 * and `{{ Param }}` substitution into step inputs.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { LocalAwsError } from '../types.js';

export type DocumentParameterType = 'String' | 'StringList' | 'Integer' | 'Boolean' | 'StringMap' | 'MapList';

export interface DocumentParameterDef {
  type: DocumentParameterType;
  description?: string;
  default?: unknown;
  allowedPattern?: string;
  allowedValues?: string[];
  minItems?: number;
  maxItems?: number;
  minChars?: number;
  maxChars?: number;
}

export interface CommandStep {
  action: string;
  name: string;
  inputs: Record<string, unknown>;
  precondition?: Record<string, unknown>;
  onFailure?: string;
  isEnd?: boolean;
  finallyStep?: boolean;
}

export interface ParsedDocument {
  schemaVersion: string;
  description?: string;
  parameters: Record<string, DocumentParameterDef>;
  mainSteps: CommandStep[];
}

export interface DocumentVersionRecord {
  version: string;
  content: string;
  format: 'YAML' | 'JSON';
  createdDate: string;
  hash: string;
  versionName?: string;
}

export interface DocumentRecord {
  name: string;
  documentType: 'Command';
  owner: string;
  createdDate: string;
  tags: { Key: string; Value: string }[];
  targetType?: string;
  versions: DocumentVersionRecord[];
  defaultVersion: string;
}

const TYPES = new Set(['String', 'StringList', 'Integer', 'Boolean', 'StringMap', 'MapList']);

/** Parses and validates a Command document; throws InvalidDocumentContent / InvalidDocumentSchemaVersion. */
export function parseCommandDocument(content: string, format: 'YAML' | 'JSON'): ParsedDocument {
  let doc: unknown;
  try {
    doc = format === 'JSON' ? JSON.parse(content) : parseYaml(content);
  } catch (error) {
    throw new LocalAwsError(
      'InvalidDocumentContent',
      `The content of the document is not valid ${format}: ${(error as Error).message}`,
    );
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new LocalAwsError('InvalidDocumentContent', 'The document content must be an object');
  }
  const d = doc as Record<string, unknown>;
  const schemaVersion = String(d.schemaVersion ?? '');
  if (!schemaVersion) throw new LocalAwsError('InvalidDocumentContent', 'schemaVersion is required');
  if (!['2.2', '2.0'].includes(schemaVersion)) {
    throw new LocalAwsError(
      'InvalidDocumentSchemaVersion',
      `Document schema version ${schemaVersion} is not supported by the local cloud (use 2.2)`,
    );
  }
  const parameters: Record<string, DocumentParameterDef> = {};
  const rawParams = (d.parameters ?? {}) as Record<string, unknown>;
  if (typeof rawParams !== 'object' || Array.isArray(rawParams)) {
    throw new LocalAwsError('InvalidDocumentContent', 'parameters must be an object');
  }
  for (const [name, raw] of Object.entries(rawParams)) {
    if (!/^[a-zA-Z0-9_.-]+$/.test(name))
      throw new LocalAwsError('InvalidDocumentContent', `Invalid parameter name ${name}`);
    const def = (raw ?? {}) as Record<string, unknown>;
    const type = String(def.type ?? '');
    if (!TYPES.has(type)) {
      throw new LocalAwsError('InvalidDocumentContent', `Parameter ${name} has an invalid type "${type}"`);
    }
    if (def.allowedPattern !== undefined) {
      try {
        new RegExp(String(def.allowedPattern));
      } catch {
        throw new LocalAwsError('InvalidDocumentContent', `Parameter ${name} has an invalid allowedPattern`);
      }
    }
    parameters[name] = {
      type: type as DocumentParameterType,
      description: def.description === undefined ? undefined : String(def.description),
      default: def.default,
      allowedPattern: def.allowedPattern === undefined ? undefined : String(def.allowedPattern),
      allowedValues: Array.isArray(def.allowedValues) ? def.allowedValues.map(String) : undefined,
      minItems: def.minItems === undefined ? undefined : Number(def.minItems),
      maxItems: def.maxItems === undefined ? undefined : Number(def.maxItems),
      minChars: def.minChars === undefined ? undefined : Number(def.minChars),
      maxChars: def.maxChars === undefined ? undefined : Number(def.maxChars),
    };
  }
  const steps = d.mainSteps;
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new LocalAwsError('InvalidDocumentContent', 'mainSteps must be a non-empty list');
  }
  const names = new Set<string>();
  const mainSteps = steps.map((raw, i) => {
    const step = (raw ?? {}) as Record<string, unknown>;
    const action = String(step.action ?? '');
    const name = String(step.name ?? '');
    if (!action.startsWith('aws:'))
      throw new LocalAwsError('InvalidDocumentContent', `mainSteps[${i}].action is required`);
    if (!/^[a-zA-Z0-9_.-]+$/.test(name))
      throw new LocalAwsError('InvalidDocumentContent', `mainSteps[${i}].name is required`);
    if (names.has(name)) throw new LocalAwsError('InvalidDocumentContent', `Duplicate step name ${name}`);
    names.add(name);
    const inputs = (step.inputs ?? {}) as Record<string, unknown>;
    if (action === 'aws:runShellScript' && inputs.runCommand === undefined) {
      throw new LocalAwsError(
        'InvalidDocumentContent',
        `Step ${name}: aws:runShellScript needs inputs.runCommand`,
      );
    }
    return {
      action,
      name,
      inputs,
      precondition: step.precondition as Record<string, unknown> | undefined,
      onFailure: step.onFailure === undefined ? undefined : String(step.onFailure),
      isEnd: step.isEnd === true,
      finallyStep: step.finallyStep === true,
    };
  });
  return {
    schemaVersion,
    description: d.description === undefined ? undefined : String(d.description),
    parameters,
    mainSteps,
  };
}

export function documentHash(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

function defaultAsList(def: DocumentParameterDef): string[] | undefined {
  if (def.default === undefined) return undefined;
  if (Array.isArray(def.default))
    return def.default.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (typeof def.default === 'object' && def.default !== null) return [JSON.stringify(def.default)];
  return [String(def.default)];
}

/**
 * Validates SendCommand parameters against the document (as Run Command does before accepting a
 * command) and returns every parameter's values, defaults filled in.
 * @throws LocalAwsError InvalidParameters naming the parameter and the rule.
 */
export function resolveParameters(
  doc: ParsedDocument,
  given: Record<string, unknown> | undefined,
): Record<string, string[]> {
  const invalid = (message: string): never => {
    throw new LocalAwsError('InvalidParameters', message);
  };
  const provided = given ?? {};
  for (const name of Object.keys(provided)) {
    if (!doc.parameters[name]) invalid(`Parameter "${name}" is not defined in the document.`);
  }
  const resolved: Record<string, string[]> = {};
  for (const [name, def] of Object.entries(doc.parameters)) {
    const raw = provided[name];
    let values: string[] | undefined;
    if (raw !== undefined) {
      if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) {
        invalid(`Parameter "${name}" must be a list of strings.`);
      }
      values = raw as string[];
    } else {
      values = defaultAsList(def);
    }
    if (values === undefined) invalid(`Parameter "${name}" is required but was not provided.`);
    const list = values!;
    if ((def.type === 'String' || def.type === 'Integer' || def.type === 'Boolean') && list.length !== 1) {
      invalid(`Parameter "${name}" is of type ${def.type} and takes exactly one value.`);
    }
    if (def.type === 'Integer' && !/^-?\d+$/.test(list[0]!))
      invalid(`Parameter "${name}" must be an integer.`);
    if (def.type === 'Boolean' && !/^(true|false)$/.test(list[0]!))
      invalid(`Parameter "${name}" must be true or false.`);
    if (def.minItems !== undefined && list.length < def.minItems)
      invalid(`Parameter "${name}" needs at least ${def.minItems} values.`);
    if (def.maxItems !== undefined && list.length > def.maxItems)
      invalid(`Parameter "${name}" takes at most ${def.maxItems} values.`);
    for (const value of list) {
      // A value given explicitly must satisfy the pattern; AWS checks defaults at document creation.
      if (
        def.allowedPattern !== undefined &&
        raw !== undefined &&
        !new RegExp(def.allowedPattern).test(value)
      ) {
        invalid(
          `Parameter "${name}" "${value}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${def.allowedPattern}`,
        );
      }
      if (def.allowedValues && !def.allowedValues.includes(value)) {
        invalid(
          `Parameter "${name}" "${value}" is not one of the allowed values: ${def.allowedValues.join(', ')}`,
        );
      }
      if (def.maxChars !== undefined && value.length > def.maxChars)
        invalid(`Parameter "${name}" is longer than ${def.maxChars} characters.`);
      if (def.minChars !== undefined && value.length < def.minChars)
        invalid(`Parameter "${name}" is shorter than ${def.minChars} characters.`);
    }
    resolved[name] = list;
  }
  return resolved;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.:/-]+)\s*\}\}/g;

/**
 * Substitutes `{{ Param }}` (and `{{ssm:/name}}`) in step inputs. A list element that is exactly
 * one StringList placeholder expands into that many elements (as `commands` does in
 * AWS-RunShellScript); elsewhere list values are joined with commas.
 */
export function substitute(
  value: unknown,
  params: Record<string, string[]>,
  ssmLookup: (name: string) => string | undefined,
): unknown {
  const lookup = (name: string): string[] | undefined => {
    if (name.startsWith('ssm:')) {
      const v = ssmLookup(name.slice(4));
      return v === undefined ? undefined : [v];
    }
    return params[name];
  };
  const text = (s: string) =>
    s.replace(PLACEHOLDER, (whole, name: string) => {
      const v = lookup(name);
      return v === undefined ? whole : v.join(',');
    });
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item === 'string') {
        const only = /^\s*\{\{\s*([A-Za-z0-9_.:/-]+)\s*\}\}\s*$/.exec(item);
        if (only) {
          const v = lookup(only[1]!);
          if (v !== undefined) return v;
        }
        return [text(item)];
      }
      return [substitute(item, params, ssmLookup)];
    });
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, ssmLookup)]));
  }
  return value;
}

/** AWS-RunShellScript, the managed document most callers use for ad-hoc commands. */
export const AWS_RUN_SHELL_SCRIPT = `{
  "schemaVersion": "2.2",
  "description": "Run a shell script or specify the commands to run.",
  "parameters": {
    "commands": {"type": "StringList", "description": "(Required) Specify a shell script or a command to run.", "displayType": "textarea"},
    "workingDirectory": {"type": "String", "default": "", "description": "(Optional) The path to the working directory on your instance.", "maxChars": 4096},
    "executionTimeout": {"type": "String", "default": "3600", "description": "(Optional) The time in seconds for a command to complete before it is considered to have failed. Default is 3600 (1 hour). Maximum is 172800 (48 hours).", "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"}
  },
  "mainSteps": [
    {
      "precondition": {"StringEquals": ["platformType", "Linux"]},
      "action": "aws:runShellScript",
      "name": "runShellScript",
      "inputs": {
        "runCommand": "{{ commands }}",
        "workingDirectory": "{{ workingDirectory }}",
        "timeoutSeconds": "{{ executionTimeout }}"
      }
    }
  ]
}`;
