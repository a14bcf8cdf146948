/** CreateTags on instances (the only taggable resource modelled), and the tag rules RunInstances shares. */
import type { NestedParams, XmlObject } from '../protocols/query.js';
import { LocalAwsError } from '../types.js';
import type { Ec2Core } from './core.js';
import { asList, asStrings, bool, dryRunSucceeded, str } from './params.js';

/** A tag of a request, checked as EC2 checks it. @throws InvalidParameterValue */
export function validTag(tag: NestedParams): { key: string; value: string } {
  const key = str(tag.Key);
  const value = str(tag.Value) ?? '';
  if (!key) throw new LocalAwsError('InvalidParameterValue', 'Tag keys must not be empty');
  if (key.length > 128)
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Tag key exceeds the maximum length of 128 characters: ${key}`,
    );
  if (value.length > 256)
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Tag value exceeds the maximum length of 256 characters for key ${key}`,
    );
  if (key.toLowerCase().startsWith('aws:')) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Tag keys starting with 'aws:' are reserved for internal use: ${key}`,
    );
  }
  return { key, value };
}

export function createTags(ec2: Ec2Core, p: NestedParams): XmlObject {
  const resources = asStrings(p.ResourceId);
  if (resources.length === 0)
    throw new LocalAwsError('MissingParameter', 'The request must contain the parameter ResourceId');
  const tags = asList(p.Tag).map((t) => validTag(t));
  for (const id of resources) {
    if (!id.startsWith('i-')) continue;
    const record = ec2.instances.get(id);
    if (!record)
      throw new LocalAwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  }
  if (bool(p.DryRun, 'DryRun')) throw dryRunSucceeded();
  for (const id of resources) {
    const record = ec2.instances.get(id);
    if (!record) continue;
    for (const tag of tags) {
      const existing = record.tags.find((t) => t.key === tag.key);
      if (existing) existing.value = tag.value;
      else record.tags.push(tag);
    }
    if (record.tags.length > 50)
      throw new LocalAwsError('TagLimitExceeded', 'The maximum number of tags per resource is 50');
  }
  ec2.persist();
  return { return: true };
}
