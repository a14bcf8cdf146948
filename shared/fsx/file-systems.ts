/**
 * FSx file systems (DescribeFileSystems). With shared/fsx/associations.ts and tasks.ts, the only
 * modules that talk to the FSx API: the rest of shared/ takes these helpers and types.
 */
import { DescribeFileSystemsCommand, type FileSystem, type FSxClient } from '@aws-sdk/client-fsx';
import { awsErrorName, FileSystemNotFoundError } from '../errors.js';

export type { FileSystem, FSxClient };

/**
 * Describes one file system.
 * @throws FileSystemNotFoundError when FSx does not know it; other SDK errors unchanged.
 */
export async function describeFileSystem(fsx: FSxClient, fileSystemId: string): Promise<FileSystem> {
  const notFound = (cause?: unknown) =>
    new FileSystemNotFoundError(`File system ${fileSystemId} does not exist in this account and region`, {
      ...(cause === undefined ? {} : { cause }),
      details: { fileSystemId },
    });
  let fileSystems: FileSystem[] | undefined;
  try {
    fileSystems = (await fsx.send(new DescribeFileSystemsCommand({ FileSystemIds: [fileSystemId] })))
      .FileSystems;
  } catch (error) {
    if (awsErrorName(error) !== 'FileSystemNotFound') throw error;
    throw notFound(error);
  }
  const fileSystem = fileSystems?.find((fs) => fs.FileSystemId === fileSystemId) ?? fileSystems?.[0];
  if (!fileSystem) throw notFound();
  return fileSystem;
}
