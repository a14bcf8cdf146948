/**
 * TagResource, UntagResource and ListTagsForResource on file systems, associations and tasks
 * (by ResourceARN).
 */
import type { OperationTable } from '../kit/dispatch.js';
import { clone, type FsxCore, type Input } from './core.js';
import { FsxError } from './errors.js';
import type { Tag } from './store.js';

function resourceByArn(fsx: FsxCore, arn: string): { Tags?: Tag[] } {
  const kinds = [fsx.state.fileSystems, fsx.state.associations, fsx.state.tasks];
  for (const records of kinds) {
    const found = Object.values(records).find((r) => r.description.ResourceARN === arn);
    if (found) return found.description;
  }
  throw new FsxError('ResourceNotFound', `The resource ${arn} does not exist.`, { ResourceARN: arn });
}

function tagResource(fsx: FsxCore, input: Input) {
  const resource = resourceByArn(fsx, input.ResourceARN as string);
  const tags = [...(resource.Tags ?? [])];
  for (const tag of input.Tags as Tag[]) {
    const index = tags.findIndex((t) => t.Key === tag.Key);
    if (index >= 0) tags[index] = tag;
    else tags.push(tag);
  }
  resource.Tags = tags;
  fsx.store.save();
  return {};
}

function untagResource(fsx: FsxCore, input: Input) {
  const resource = resourceByArn(fsx, input.ResourceARN as string);
  const keys = input.TagKeys as string[];
  resource.Tags = (resource.Tags ?? []).filter((t) => !keys.includes(t.Key));
  fsx.store.save();
  return {};
}

function listTags(fsx: FsxCore, input: Input) {
  const resource = resourceByArn(fsx, input.ResourceARN as string);
  const { page, more } = fsx.paginate(resource.Tags ?? [], input, 50);
  return { Tags: clone(page), ...more };
}

export function tagOperations(fsx: FsxCore): OperationTable<Input> {
  return {
    TagResource: (input) => tagResource(fsx, input),
    UntagResource: (input) => untagResource(fsx, input),
    ListTagsForResource: (input) => listTags(fsx, input),
  };
}
