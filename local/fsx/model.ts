/**
 * Input shapes of the FSx operations the emulator implements, with their constraints, copied from
 * the AWS API model (botocore `data/fsx/2018-03-01/service-2.json`, Apache-2.0). The AWS SDK v3
 * clients drop length/pattern/enum constraints, so the emulator validates requests against this
 * subset the way the service does (BadRequest, "N validation errors detected: ...").
 * `test/unit/local/fsx-model.test.ts` checks it against the installed botocore model.
 */

export type ShapeDef =
  | { type: 'string'; min?: number; max?: number; pattern?: string; enum?: string[] }
  | { type: 'integer' | 'long'; min?: number; max?: number }
  | { type: 'boolean' }
  | { type: 'list'; member: string; min?: number; max?: number }
  | { type: 'structure'; members: Record<string, string>; required?: string[] };

/** Operation name -> input shape name. */
export const OPERATIONS: Record<string, string> = {
  DescribeFileSystems: 'DescribeFileSystemsRequest',
  CreateDataRepositoryAssociation: 'CreateDataRepositoryAssociationRequest',
  DescribeDataRepositoryAssociations: 'DescribeDataRepositoryAssociationsRequest',
  UpdateDataRepositoryAssociation: 'UpdateDataRepositoryAssociationRequest',
  DeleteDataRepositoryAssociation: 'DeleteDataRepositoryAssociationRequest',
  CreateDataRepositoryTask: 'CreateDataRepositoryTaskRequest',
  DescribeDataRepositoryTasks: 'DescribeDataRepositoryTasksRequest',
  CancelDataRepositoryTask: 'CancelDataRepositoryTaskRequest',
  TagResource: 'TagResourceRequest',
  UntagResource: 'UntagResourceRequest',
  ListTagsForResource: 'ListTagsForResourceRequest',
};

export const SHAPES: Record<string, ShapeDef> = {
  ArchivePath: {
    type: 'string',
    min: 3,
    max: 4357,
    pattern: '^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{3,4357}$',
  },
  AutoExportPolicy: {
    type: 'structure',
    members: {
      Events: 'EventTypes',
    },
  },
  AutoImportPolicy: {
    type: 'structure',
    members: {
      Events: 'EventTypes',
    },
  },
  BatchImportMetaDataOnCreate: {
    type: 'boolean',
  },
  CancelDataRepositoryTaskRequest: {
    type: 'structure',
    members: {
      TaskId: 'TaskId',
    },
    required: ['TaskId'],
  },
  CapacityToRelease: {
    type: 'long',
    min: 1,
    max: 2147483647,
  },
  ClientRequestToken: {
    type: 'string',
    min: 1,
    max: 63,
    pattern: '[A-za-z0-9_.-]{0,63}$',
  },
  CompletionReport: {
    type: 'structure',
    members: {
      Enabled: 'Flag',
      Path: 'ArchivePath',
      Format: 'ReportFormat',
      Scope: 'ReportScope',
    },
    required: ['Enabled'],
  },
  CreateDataRepositoryAssociationRequest: {
    type: 'structure',
    members: {
      FileSystemId: 'FileSystemId',
      FileSystemPath: 'Namespace',
      DataRepositoryPath: 'ArchivePath',
      BatchImportMetaDataOnCreate: 'BatchImportMetaDataOnCreate',
      ImportedFileChunkSize: 'Megabytes',
      S3: 'S3DataRepositoryConfiguration',
      ClientRequestToken: 'ClientRequestToken',
      Tags: 'Tags',
    },
    required: ['FileSystemId', 'DataRepositoryPath'],
  },
  CreateDataRepositoryTaskRequest: {
    type: 'structure',
    members: {
      Type: 'DataRepositoryTaskType',
      Paths: 'DataRepositoryTaskPaths',
      FileSystemId: 'FileSystemId',
      Report: 'CompletionReport',
      ClientRequestToken: 'ClientRequestToken',
      Tags: 'Tags',
      CapacityToRelease: 'CapacityToRelease',
      ReleaseConfiguration: 'ReleaseConfiguration',
    },
    required: ['Type', 'FileSystemId', 'Report'],
  },
  DataRepositoryAssociationId: {
    type: 'string',
    min: 13,
    max: 23,
    pattern: '^(dra-[0-9a-f]{8,})$',
  },
  DataRepositoryAssociationIds: {
    type: 'list',
    max: 50,
    member: 'DataRepositoryAssociationId',
  },
  DataRepositoryTaskFilter: {
    type: 'structure',
    members: {
      Name: 'DataRepositoryTaskFilterName',
      Values: 'DataRepositoryTaskFilterValues',
    },
  },
  DataRepositoryTaskFilterName: {
    type: 'string',
    enum: ['file-system-id', 'task-lifecycle', 'data-repository-association-id', 'file-cache-id'],
  },
  DataRepositoryTaskFilterValue: {
    type: 'string',
    min: 1,
    max: 128,
    pattern: '^[0-9a-zA-Z\\*\\.\\\\/\\?\\-\\_]*$',
  },
  DataRepositoryTaskFilterValues: {
    type: 'list',
    max: 20,
    member: 'DataRepositoryTaskFilterValue',
  },
  DataRepositoryTaskFilters: {
    type: 'list',
    max: 3,
    member: 'DataRepositoryTaskFilter',
  },
  DataRepositoryTaskPath: {
    type: 'string',
    min: 0,
    max: 4096,
    pattern: '^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{0,4096}$',
  },
  DataRepositoryTaskPaths: {
    type: 'list',
    max: 100,
    member: 'DataRepositoryTaskPath',
  },
  DataRepositoryTaskType: {
    type: 'string',
    enum: [
      'EXPORT_TO_REPOSITORY',
      'IMPORT_METADATA_FROM_REPOSITORY',
      'RELEASE_DATA_FROM_FILESYSTEM',
      'AUTO_RELEASE_DATA',
    ],
  },
  DeleteDataInFileSystem: {
    type: 'boolean',
  },
  DeleteDataRepositoryAssociationRequest: {
    type: 'structure',
    members: {
      AssociationId: 'DataRepositoryAssociationId',
      ClientRequestToken: 'ClientRequestToken',
      DeleteDataInFileSystem: 'DeleteDataInFileSystem',
    },
    required: ['AssociationId'],
  },
  DescribeDataRepositoryAssociationsRequest: {
    type: 'structure',
    members: {
      AssociationIds: 'DataRepositoryAssociationIds',
      Filters: 'Filters',
      MaxResults: 'LimitedMaxResults',
      NextToken: 'NextToken',
    },
  },
  DescribeDataRepositoryTasksRequest: {
    type: 'structure',
    members: {
      TaskIds: 'TaskIds',
      Filters: 'DataRepositoryTaskFilters',
      MaxResults: 'MaxResults',
      NextToken: 'NextToken',
    },
  },
  DescribeFileSystemsRequest: {
    type: 'structure',
    members: {
      FileSystemIds: 'FileSystemIds',
      MaxResults: 'MaxResults',
      NextToken: 'NextToken',
    },
  },
  DurationSinceLastAccess: {
    type: 'structure',
    members: {
      Unit: 'Unit',
      Value: 'Value',
    },
  },
  EventType: {
    type: 'string',
    enum: ['NEW', 'CHANGED', 'DELETED'],
  },
  EventTypes: {
    type: 'list',
    max: 3,
    member: 'EventType',
  },
  FileSystemId: {
    type: 'string',
    min: 11,
    max: 21,
    pattern: '^(fs-[0-9a-f]{8,})$',
  },
  FileSystemIds: {
    type: 'list',
    max: 50,
    member: 'FileSystemId',
  },
  Filter: {
    type: 'structure',
    members: {
      Name: 'FilterName',
      Values: 'FilterValues',
    },
  },
  FilterName: {
    type: 'string',
    enum: [
      'file-system-id',
      'backup-type',
      'file-system-type',
      'volume-id',
      'data-repository-type',
      'file-cache-id',
      'file-cache-type',
    ],
  },
  FilterValue: {
    type: 'string',
    min: 1,
    max: 128,
    pattern: '^[0-9a-zA-Z\\*\\.\\\\/\\?\\-\\_]*$',
  },
  FilterValues: {
    type: 'list',
    max: 20,
    member: 'FilterValue',
  },
  Filters: {
    type: 'list',
    max: 10,
    member: 'Filter',
  },
  Flag: {
    type: 'boolean',
  },
  LimitedMaxResults: {
    type: 'integer',
    min: 1,
    max: 25,
  },
  ListTagsForResourceRequest: {
    type: 'structure',
    members: {
      ResourceARN: 'ResourceARN',
      MaxResults: 'MaxResults',
      NextToken: 'NextToken',
    },
    required: ['ResourceARN'],
  },
  MaxResults: {
    type: 'integer',
    min: 1,
    max: 2147483647,
  },
  Megabytes: {
    type: 'integer',
    min: 1,
    max: 512000,
  },
  Namespace: {
    type: 'string',
    min: 1,
    max: 4096,
    pattern: '^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,4096}$',
  },
  NextToken: {
    type: 'string',
    min: 1,
    max: 255,
    pattern: '^(?:[A-Za-z0-9+\\/]{4})*(?:[A-Za-z0-9+\\/]{2}==|[A-Za-z0-9+\\/]{3}=)?$',
  },
  ReleaseConfiguration: {
    type: 'structure',
    members: {
      DurationSinceLastAccess: 'DurationSinceLastAccess',
    },
  },
  ReportFormat: {
    type: 'string',
    enum: ['REPORT_CSV_20191124'],
  },
  ReportScope: {
    type: 'string',
    enum: ['FAILED_FILES_ONLY'],
  },
  ResourceARN: {
    type: 'string',
    min: 8,
    max: 512,
    pattern:
      '^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})(?!\\d{1,3}(\\.\\d{1,3}){3})(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$',
  },
  S3DataRepositoryConfiguration: {
    type: 'structure',
    members: {
      AutoImportPolicy: 'AutoImportPolicy',
      AutoExportPolicy: 'AutoExportPolicy',
    },
  },
  Tag: {
    type: 'structure',
    members: {
      Key: 'TagKey',
      Value: 'TagValue',
    },
    required: ['Key', 'Value'],
  },
  TagKey: {
    type: 'string',
    min: 1,
    max: 128,
    pattern: '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
  },
  TagKeys: {
    type: 'list',
    min: 1,
    max: 50,
    member: 'TagKey',
  },
  TagResourceRequest: {
    type: 'structure',
    members: {
      ResourceARN: 'ResourceARN',
      Tags: 'Tags',
    },
    required: ['ResourceARN', 'Tags'],
  },
  TagValue: {
    type: 'string',
    min: 0,
    max: 256,
    pattern: '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
  },
  Tags: {
    type: 'list',
    min: 1,
    max: 50,
    member: 'Tag',
  },
  TaskId: {
    type: 'string',
    min: 12,
    max: 128,
    pattern: '^(task-[0-9a-f]{17,})$',
  },
  TaskIds: {
    type: 'list',
    max: 50,
    member: 'TaskId',
  },
  Unit: {
    type: 'string',
    enum: ['DAYS'],
  },
  UntagResourceRequest: {
    type: 'structure',
    members: {
      ResourceARN: 'ResourceARN',
      TagKeys: 'TagKeys',
    },
    required: ['ResourceARN', 'TagKeys'],
  },
  UpdateDataRepositoryAssociationRequest: {
    type: 'structure',
    members: {
      AssociationId: 'DataRepositoryAssociationId',
      ClientRequestToken: 'ClientRequestToken',
      ImportedFileChunkSize: 'Megabytes',
      S3: 'S3DataRepositoryConfiguration',
    },
    required: ['AssociationId'],
  },
  Value: {
    type: 'long',
    min: 0,
  },
};

/** Every operation of the FSx API (an X-Amz-Target outside this list is UnknownOperationException). */
export const ALL_OPERATIONS: readonly string[] = [
  'AssociateFileSystemAliases',
  'CancelDataRepositoryTask',
  'CopyBackup',
  'CopySnapshotAndUpdateVolume',
  'CreateAndAttachS3AccessPoint',
  'CreateBackup',
  'CreateDataRepositoryAssociation',
  'CreateDataRepositoryTask',
  'CreateFileCache',
  'CreateFileSystem',
  'CreateFileSystemFromBackup',
  'CreateSnapshot',
  'CreateStorageVirtualMachine',
  'CreateVolume',
  'CreateVolumeFromBackup',
  'DeleteBackup',
  'DeleteDataRepositoryAssociation',
  'DeleteFileCache',
  'DeleteFileSystem',
  'DeleteSnapshot',
  'DeleteStorageVirtualMachine',
  'DeleteVolume',
  'DescribeBackups',
  'DescribeDataRepositoryAssociations',
  'DescribeDataRepositoryTasks',
  'DescribeFileCaches',
  'DescribeFileSystemAliases',
  'DescribeFileSystems',
  'DescribeS3AccessPointAttachments',
  'DescribeSharedVpcConfiguration',
  'DescribeSnapshots',
  'DescribeStorageVirtualMachines',
  'DescribeVolumes',
  'DetachAndDeleteS3AccessPoint',
  'DisassociateFileSystemAliases',
  'ListTagsForResource',
  'ReleaseFileSystemNfsV3Locks',
  'RestoreVolumeFromSnapshot',
  'StartMisconfiguredStateRecovery',
  'TagResource',
  'UntagResource',
  'UpdateDataRepositoryAssociation',
  'UpdateFileCache',
  'UpdateFileSystem',
  'UpdateSharedVpcConfiguration',
  'UpdateSnapshot',
  'UpdateStorageVirtualMachine',
  'UpdateVolume',
];
