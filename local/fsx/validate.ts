/**
 * Request validation the way the FSx front end does it: shape constraints from the API model are
 * checked before any business rule, and every violation is reported in one BadRequest whose
 * message follows AWS's wording ("2 validation errors detected: Value null at 'fileSystemId'
 * failed to satisfy constraint: Member must not be null; ..."). A value of the wrong JSON type is a
 * SerializationException, as on AWS.
 */
import { LocalAwsError } from '../types.js';
import { OPERATIONS, SHAPES, type ShapeDef } from './model.js';

const compiled = new Map<string, RegExp>();

function patternOf(source: string): RegExp {
  let regex = compiled.get(source);
  if (!regex) {
    // Java patterns in the model: \p{..} classes need the unicode flag; others stay non-unicode so
    // escapes such as \_ remain legal. The service matches the whole value.
    regex = new RegExp(`^(?:${source})$`, source.includes('\\p{') ? 'u' : '');
    compiled.set(source, regex);
  }
  return regex;
}

/** AWS names members in validation messages in camelCase: `S3.AutoImportPolicy` -> `s3.autoImportPolicy`. */
const memberName = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

function show(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value))
    return `'[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]'`;
  if (typeof value === 'object') return `'${JSON.stringify(value)}'`;
  return `'${String(value)}'`;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'START_ARRAY';
  if (value === null) return 'VALUE_NULL';
  switch (typeof value) {
    case 'string':
      return 'STRING_VALUE';
    case 'number':
      return 'NUMBER_VALUE';
    case 'boolean':
      return 'BOOLEAN_VALUE';
    default:
      return 'START_OBJECT';
  }
}

function serializationError(value: unknown, expected: string): LocalAwsError {
  return new LocalAwsError('SerializationException', `${jsonKind(value)} cannot be converted to ${expected}`);
}

function check(shapeName: string, value: unknown, path: string, problems: string[]): void {
  const shape: ShapeDef | undefined = SHAPES[shapeName];
  if (!shape || value === undefined || value === null) return;
  const fail = (constraint: string) =>
    problems.push(
      `Value ${show(value)} at '${path}' failed to satisfy constraint: Member must ${constraint}`,
    );
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') throw serializationError(value, 'String');
      if (shape.enum && !shape.enum.includes(value)) {
        fail(`satisfy enum value set: [${shape.enum.join(', ')}]`);
        return;
      }
      if (shape.min !== undefined && value.length < shape.min)
        fail(`have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max)
        fail(`have length less than or equal to ${shape.max}`);
      if (shape.pattern && !patternOf(shape.pattern).test(value)) {
        fail(`satisfy regular expression pattern: ${shape.pattern}`);
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw serializationError(value, shape.type === 'long' ? 'Long' : 'Integer');
      }
      if (!Number.isInteger(value))
        throw serializationError(value, shape.type === 'long' ? 'Long' : 'Integer');
      if (shape.min !== undefined && value < shape.min)
        fail(`have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`have value less than or equal to ${shape.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serializationError(value, 'Boolean');
      return;
    case 'list': {
      if (!Array.isArray(value)) throw serializationError(value, 'List');
      if (shape.min !== undefined && value.length < shape.min)
        fail(`have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max)
        fail(`have length less than or equal to ${shape.max}`);
      value.forEach((item, i) => {
        if (item === null || item === undefined) {
          problems.push(
            `Value null at '${path}.${i + 1}.member' failed to satisfy constraint: Member must not be null`,
          );
          return;
        }
        check(shape.member, item, `${path}.${i + 1}.member`, problems);
      });
      return;
    }
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) throw serializationError(value, 'Structure');
      const record = value as Record<string, unknown>;
      for (const required of shape.required ?? []) {
        if (record[required] === undefined || record[required] === null) {
          problems.push(
            `Value null at '${path ? `${path}.` : ''}${memberName(required)}' failed to satisfy constraint: Member must not be null`,
          );
        }
      }
      // Unknown members are ignored, as the service does.
      for (const [name, member] of Object.entries(shape.members)) {
        check(member, record[name], path ? `${path}.${memberName(name)}` : memberName(name), problems);
      }
      return;
    }
  }
}

/**
 * Validates the input of a modelled operation.
 * @throws LocalAwsError BadRequest listing every violated constraint, or SerializationException
 *   when a member has the wrong JSON type.
 */
export function validateInput(operation: string, input: unknown): void {
  const shapeName = OPERATIONS[operation];
  if (!shapeName) return;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw serializationError(input, 'Structure');
  }
  const problems: string[] = [];
  check(shapeName, input, '', problems);
  if (problems.length > 0) {
    const count =
      problems.length === 1 ? '1 validation error detected' : `${problems.length} validation errors detected`;
    throw new LocalAwsError('BadRequest', `${count}: ${problems.join('; ')}`);
  }
}
