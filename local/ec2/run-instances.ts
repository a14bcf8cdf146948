/**
 * RunInstances as EC2 validates and answers it: image, type, counts, placement (instance-level
 * SubnetId/SecurityGroupId or one primary network interface), metadata options, user data (base64,
 * at most 16 KB), tag specifications, instance profile, block devices, DryRun, and AWS's
 * ClientToken rules (the same token with the same parameters returns the original reservation in
 * its current state; other parameters are IdempotentParameterMismatch; a refused launch does not
 * consume the token). Each launched instance starts its lifecycle (lifecycle.ts).
 */
import { createHash } from 'node:crypto';
import { resourceId } from '../kit/ids.js';
import type { NestedParams, XmlObject } from '../protocols/query.js';
import { LocalAwsError } from '../types.js';
import type { Ec2Core, InstanceRecord } from './core.js';
import type { SecurityGroupRecord, SubnetRecord } from './network.js';
import { asList, asStrings, bool, dryRunSucceeded, int, str } from './params.js';
import { validTag } from './tags.js';
import { reservationXml } from './xml.js';

/** RunInstances: `flat` is the request as received (kept on the records), `p` its nested form. */
export function runInstances(ec2: Ec2Core, flat: Record<string, string>, p: NestedParams): XmlObject {
  const dryRun = bool(p.DryRun, 'DryRun');
  const imageId = str(p.ImageId);
  if (p.MinCount === undefined)
    throw new LocalAwsError('MissingParameter', 'The request must contain the parameter MinCount');
  if (p.MaxCount === undefined)
    throw new LocalAwsError('MissingParameter', 'The request must contain the parameter MaxCount');
  const minCount = int(p.MinCount, 'MinCount')!;
  const maxCount = int(p.MaxCount, 'MaxCount')!;
  if (minCount < 1)
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${minCount}) for parameter minCount is invalid. Expected a positive integer.`,
    );
  if (maxCount < minCount) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${maxCount}) for parameter maxCount is invalid. Must be greater than or equal to minCount.`,
    );
  }
  if (!imageId) throw new LocalAwsError('MissingParameter', 'The request must contain the parameter ImageId');
  if (!/^ami-[0-9a-f]{8,17}$/.test(imageId))
    throw new LocalAwsError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  const instanceType = str(p.InstanceType) ?? 'm1.small';
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
    throw new LocalAwsError('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
  }
  const clientToken = str(p.ClientToken);
  if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]*$/.test(clientToken))) {
    throw new LocalAwsError('InvalidParameterValue', 'ClientToken must be at most 64 ASCII characters');
  }

  // Idempotency first: a retried request must not be refused for capacity or anything else.
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify(
        Object.entries(flat)
          .filter(([k]) => !['Action', 'Version', 'ClientToken', 'DryRun'].includes(k))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    )
    .digest('hex');
  if (clientToken) {
    const known = ec2.clientTokens.get(clientToken);
    if (known) {
      if (known.fingerprint !== fingerprint) {
        throw new LocalAwsError(
          'IdempotentParameterMismatch',
          `Arguments on this idempotent request are inconsistent with arguments used in previous request(s) with client token ${clientToken}.`,
        );
      }
      return reservationXml(ec2, known.reservationId);
    }
  }

  // Placement: instance-level SubnetId/SecurityGroupId or the primary network interface.
  const interfaces = asList(p.NetworkInterface);
  const instanceSubnet = str(p.SubnetId);
  const instanceGroups = asStrings(p.SecurityGroupId);
  if (interfaces.length > 0 && instanceSubnet) {
    throw new LocalAwsError(
      'InvalidParameterCombination',
      'Network interfaces and an instance-level subnet ID may not be specified on the same request',
    );
  }
  if (interfaces.length > 0 && (instanceGroups.length > 0 || p.SecurityGroup !== undefined)) {
    throw new LocalAwsError(
      'InvalidParameterCombination',
      'Network interfaces and an instance-level security groups may not be specified on the same request',
    );
  }
  if (interfaces.length > 1) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      'The local cloud supports one network interface per instance',
    );
  }
  const primary = interfaces[0];
  if (primary && int(primary.DeviceIndex, 'NetworkInterface.1.DeviceIndex') !== 0) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      'Each network interface requires a device index; the primary one must be 0',
    );
  }
  const subnetId = str(primary?.SubnetId) ?? instanceSubnet;
  const subnet = subnetId ? subnetNamed(ec2, subnetId) : ec2.deps.network.defaultSubnet();
  const groupIds = primary ? asStrings(primary.SecurityGroupId) : instanceGroups;
  const groupNames = asStrings(p.SecurityGroup);
  const groups: SecurityGroupRecord[] = groupIds.map((id) => securityGroupNamed(ec2, id));
  for (const name of groupNames) {
    const group = [...ec2.deps.network.securityGroups.values()].find((g) => g.groupName === name);
    if (!group)
      throw new LocalAwsError(
        'InvalidGroup.NotFound',
        `The security group '${name}' does not exist in default VPC '${subnet.vpcId}'`,
      );
    groups.push(group);
  }
  if (groups.length === 0) groups.push(ec2.deps.network.defaultSecurityGroup());
  for (const group of groups) {
    if (group.vpcId !== subnet.vpcId) {
      throw new LocalAwsError(
        'InvalidParameter',
        `Security group ${group.groupId} and subnet ${subnet.subnetId} belong to different networks.`,
      );
    }
  }
  const associatePublicIp = bool(primary?.AssociatePublicIpAddress, 'AssociatePublicIpAddress') ?? false;

  const shutdownBehavior = str(p.InstanceInitiatedShutdownBehavior) ?? 'stop';
  if (shutdownBehavior !== 'stop' && shutdownBehavior !== 'terminate') {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${shutdownBehavior}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected 'stop' or 'terminate'.`,
    );
  }
  const metadata = (p.MetadataOptions ?? {}) as NestedParams;
  const httpTokens = str(metadata.HttpTokens) ?? 'optional';
  if (!['optional', 'required'].includes(httpTokens)) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${httpTokens}) for parameter HttpTokens is invalid. Expected 'optional' or 'required'.`,
    );
  }
  const httpEndpoint = str(metadata.HttpEndpoint) ?? 'enabled';
  if (!['enabled', 'disabled'].includes(httpEndpoint)) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${httpEndpoint}) for parameter HttpEndpoint is invalid.`,
    );
  }
  const hopLimit = int(metadata.HttpPutResponseHopLimit, 'HttpPutResponseHopLimit') ?? 1;
  if (hopLimit < 1 || hopLimit > 64) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${hopLimit}) for parameter HttpPutResponseHopLimit is invalid. Expected 1-64.`,
    );
  }

  const userData = str(p.UserData);
  if (userData !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData.replace(/\s/g, ''))) {
      throw new LocalAwsError('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
    }
    if (Buffer.from(userData, 'base64').length > 16 * 1024) {
      throw new LocalAwsError('InvalidParameterValue', 'User data is limited to 16384 bytes');
    }
  }

  const tags: { key: string; value: string }[] = [];
  const volumeTags: { key: string; value: string }[] = [];
  for (const spec of asList(p.TagSpecification)) {
    const resourceType = str(spec.ResourceType);
    if (!resourceType)
      throw new LocalAwsError(
        'MissingParameter',
        'The request must contain the parameter TagSpecification.N.ResourceType',
      );
    if (!['instance', 'volume', 'network-interface'].includes(resourceType)) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `'${resourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    const target = resourceType === 'instance' ? tags : volumeTags;
    for (const tag of asList(spec.Tag)) target.push(validTag(tag));
  }
  if (tags.length > 50)
    throw new LocalAwsError('TagLimitExceeded', 'The maximum number of tags per resource is 50');

  let iamInstanceProfile: InstanceRecord['iamInstanceProfile'];
  const profile = p.IamInstanceProfile as NestedParams | undefined;
  if (profile) {
    const arn = str(profile.Arn);
    const name = str(profile.Name);
    if (arn && !/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/.test(arn)) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
      );
    }
    if (!arn && !name)
      throw new LocalAwsError('InvalidParameterValue', 'iamInstanceProfile requires a Name or an Arn');
    const profileArn = arn ?? `arn:aws:iam::${ec2.deps.accountId}:instance-profile/${name}`;
    iamInstanceProfile = {
      arn: profileArn,
      id: `AIPA${createHash('sha256').update(profileArn).digest('hex').slice(0, 17).toUpperCase()}`,
    };
  }

  const mappings = asList(p.BlockDeviceMapping);
  const now = ec2.deps.clock.now().toISOString();
  const blockDevices: InstanceRecord['blockDeviceMappings'] = (
    mappings.length > 0 ? mappings : [{ DeviceName: '/dev/xvda' }]
  ).map((m) => {
    const ebs = (m.Ebs ?? {}) as NestedParams;
    const deviceName = str(m.DeviceName);
    if (!deviceName)
      throw new LocalAwsError(
        'MissingParameter',
        'The request must contain the parameter BlockDeviceMapping.N.DeviceName',
      );
    return {
      deviceName,
      volumeId: resourceId('vol'),
      deleteOnTermination: bool(ebs.DeleteOnTermination, 'DeleteOnTermination') ?? true,
      attachTime: now,
      encrypted: bool(ebs.Encrypted, 'Encrypted') ?? false,
      volumeSize: int(ebs.VolumeSize, 'VolumeSize') ?? 8,
      volumeType: str(ebs.VolumeType) ?? 'gp3',
      kmsKeyId: str(ebs.KmsKeyId),
    };
  });

  if (dryRun) throw dryRunSucceeded();

  const reservationId = resourceId('r');
  for (let index = 0; index < maxCount; index += 1) {
    const record = ec2.newInstance({
      instanceId: resourceId('i'),
      reservationId,
      imageId,
      instanceType,
      subnet,
      groups,
      index,
      tags,
      shutdownBehavior,
      request: flat,
    });
    record.clientToken = clientToken;
    record.keyName = str(p.KeyName);
    record.metadataOptions = {
      httpTokens,
      httpPutResponseHopLimit: hopLimit,
      httpEndpoint,
      httpProtocolIpv6: str(metadata.HttpProtocolIpv6) ?? 'disabled',
      instanceMetadataTags: str(metadata.InstanceMetadataTags) ?? 'disabled',
    };
    record.disableApiTermination = bool(p.DisableApiTermination, 'DisableApiTermination') ?? false;
    record.userData = userData;
    record.blockDeviceMappings = blockDevices.map((b) => ({
      ...b,
      volumeId: index === 0 ? b.volumeId : resourceId('vol'),
    }));
    record.associatePublicIpAddress = associatePublicIp;
    if (associatePublicIp) record.publicIpAddress = `203.0.113.${(ec2.counter % 250) + 1}`;
    record.iamInstanceProfile = iamInstanceProfile;
    record.ebsOptimized = bool(p.EbsOptimized, 'EbsOptimized') ?? false;
    record.monitoring = bool((p.Monitoring as NestedParams | undefined)?.Enabled, 'Monitoring.Enabled')
      ? 'enabled'
      : 'disabled';
    ec2.instances.set(record.instanceId, record);
    ec2.lifecycle.emitState(record, undefined);
    ec2.lifecycle.scheduleBoot(record);
  }
  if (clientToken) ec2.clientTokens.set(clientToken, { fingerprint, reservationId });
  ec2.persist();
  return reservationXml(ec2, reservationId);
}

function subnetNamed(ec2: Ec2Core, subnetId: string): SubnetRecord {
  if (!/^subnet-[0-9a-f]{8,17}$/.test(subnetId)) {
    throw new LocalAwsError(
      'InvalidSubnetID.Malformed',
      `Invalid id: "${subnetId}" (expecting "subnet-...")`,
    );
  }
  const subnet = ec2.deps.network.subnets.get(subnetId);
  if (!subnet)
    throw new LocalAwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  return subnet;
}

function securityGroupNamed(ec2: Ec2Core, groupId: string): SecurityGroupRecord {
  if (!/^sg-[0-9a-f]{8,17}$/.test(groupId)) {
    throw new LocalAwsError('InvalidGroupId.Malformed', `Invalid id: "${groupId}" (expecting "sg-...")`);
  }
  const group = ec2.deps.network.securityGroups.get(groupId);
  if (!group)
    throw new LocalAwsError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
  return group;
}
