/**
 * The read-only EC2 actions: DescribeInstances (instance ids, filters with `*`/`?` wildcards,
 * MaxResults and NextToken), DescribeSubnets, DescribeSecurityGroups and DescribeVpcs of the local
 * network.
 */
import { globMatch } from '../faults.js';
import { pageOf, pageTokens } from '../kit/next-token.js';
import type { NestedParams, XmlObject } from '../protocols/query.js';
import { LocalAwsError } from '../types.js';
import { type Ec2Core, type InstanceRecord, STATE_CODES } from './core.js';
import { asStrings, filtersOf, int, str } from './params.js';
import { reservationObject } from './xml.js';

const tokens = pageTokens(
  () =>
    new LocalAwsError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.'),
);

const INSTANCE_FILTERS = new Set([
  'instance-id',
  'instance-state-name',
  'instance-state-code',
  'instance-type',
  'image-id',
  'subnet-id',
  'vpc-id',
  'availability-zone',
  'reservation-id',
  'client-token',
  'tag-key',
  'tag-value',
  'private-ip-address',
  'iam-instance-profile.arn',
  'key-name',
]);

/** Whether an instance passes one DescribeInstances filter (values may use `*` and `?`). */
function instanceMatches(record: InstanceRecord, filter: { name: string; values: string[] }): boolean {
  const any = (candidates: (string | undefined)[]) =>
    candidates.some((c) => c !== undefined && filter.values.some((v) => globMatch(v, c)));
  if (filter.name.startsWith('tag:')) {
    const key = filter.name.slice(4);
    return any(record.tags.filter((t) => t.key === key).map((t) => t.value));
  }
  switch (filter.name) {
    case 'instance-id':
      return any([record.instanceId]);
    case 'instance-state-name':
      return any([record.state]);
    case 'instance-state-code':
      return any([String(STATE_CODES[record.state])]);
    case 'instance-type':
      return any([record.instanceType]);
    case 'image-id':
      return any([record.imageId]);
    case 'subnet-id':
      return any([record.subnetId]);
    case 'vpc-id':
      return any([record.vpcId]);
    case 'availability-zone':
      return any([record.availabilityZone]);
    case 'reservation-id':
      return any([record.reservationId]);
    case 'client-token':
      return any([record.clientToken]);
    case 'tag-key':
      return any(record.tags.map((t) => t.key));
    case 'tag-value':
      return any(record.tags.map((t) => t.value));
    case 'private-ip-address':
      return any([record.privateIpAddress]);
    case 'iam-instance-profile.arn':
      return any([record.iamInstanceProfile?.arn]);
    case 'key-name':
      return any([record.keyName]);
    default:
      return false;
  }
}

export function describeInstances(ec2: Ec2Core, p: NestedParams): XmlObject {
  const maxResults = int(p.MaxResults, 'MaxResults');
  if (maxResults !== undefined && asStrings(p.InstanceId).length > 0) {
    throw new LocalAwsError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  if (maxResults !== undefined && (maxResults < 5 || maxResults > 1000)) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value greater than 5.`,
    );
  }
  const ids = ec2.instanceIds(p, true);
  const filters = filtersOf(p, INSTANCE_FILTERS);
  const matching = [...ec2.instances.values()]
    .filter((r) => ec2.visible(r))
    .filter((r) => ids.length === 0 || ids.includes(r.instanceId))
    .filter((r) => filters.every((f) => instanceMatches(r, f)));
  // Without MaxResults, one page holds every instance.
  const size = maxResults ?? Number.POSITIVE_INFINITY;
  const { items: page, nextToken } = pageOf(matching, { token: str(p.NextToken), size }, tokens);
  const reservations = new Map<string, InstanceRecord[]>();
  for (const record of page) {
    const list = reservations.get(record.reservationId) ?? [];
    list.push(record);
    reservations.set(record.reservationId, list);
  }
  return {
    reservationSet: [...reservations.entries()].map(([reservationId, records]) =>
      reservationObject(ec2, reservationId, records),
    ),
    nextToken,
  };
}

export function describeSubnets(ec2: Ec2Core, p: NestedParams): XmlObject {
  const ids = asStrings(p.SubnetId);
  const missing = ids.filter((id) => !ec2.deps.network.subnets.has(id));
  if (missing.length > 0)
    throw new LocalAwsError(
      'InvalidSubnetID.NotFound',
      `The subnet ID '${missing.join(', ')}' does not exist`,
    );
  const filters = filtersOf(p, new Set(['subnet-id', 'vpc-id', 'availability-zone', 'state']));
  const subnets = [...ec2.deps.network.subnets.values()]
    .filter((s) => ids.length === 0 || ids.includes(s.subnetId))
    .filter((s) =>
      filters.every((f) => {
        const value =
          f.name === 'subnet-id'
            ? s.subnetId
            : f.name === 'vpc-id'
              ? s.vpcId
              : f.name === 'state'
                ? 'available'
                : s.availabilityZone;
        return f.values.some((v) => globMatch(v, value));
      }),
    );
  return {
    subnetSet: subnets.map((s) => ({
      subnetId: s.subnetId,
      subnetArn: `arn:aws:ec2:${ec2.deps.region}:${ec2.deps.accountId}:subnet/${s.subnetId}`,
      state: 'available',
      vpcId: s.vpcId,
      cidrBlock: s.cidrBlock,
      availableIpAddressCount: 250,
      availabilityZone: s.availabilityZone,
      availabilityZoneId: `use1-az${'abc'.indexOf(s.availabilityZone.slice(-1)) + 1}`,
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
      assignIpv6AddressOnCreation: false,
      ownerId: ec2.deps.accountId,
    })),
  };
}

export function describeSecurityGroups(ec2: Ec2Core, p: NestedParams): XmlObject {
  const ids = asStrings(p.GroupId);
  const missing = ids.filter((id) => !ec2.deps.network.securityGroups.has(id));
  if (missing.length > 0)
    throw new LocalAwsError(
      'InvalidGroup.NotFound',
      `The security group '${missing.join(', ')}' does not exist`,
    );
  const filters = filtersOf(p, new Set(['group-id', 'group-name', 'vpc-id']));
  const groups = [...ec2.deps.network.securityGroups.values()]
    .filter((g) => ids.length === 0 || ids.includes(g.groupId))
    .filter((g) =>
      filters.every((f) => {
        const value = f.name === 'group-id' ? g.groupId : f.name === 'group-name' ? g.groupName : g.vpcId;
        return f.values.some((v) => globMatch(v, value));
      }),
    );
  const lustreRule = (fromPort: number, toPort: number, groupId: string) => ({
    ipProtocol: 'tcp',
    fromPort,
    toPort,
    groups: [{ groupId, userId: ec2.deps.accountId }],
    ipRanges: [],
    ipv6Ranges: [],
    prefixListIds: [],
  });
  return {
    securityGroupInfo: groups.map((g) => ({
      ownerId: ec2.deps.accountId,
      groupId: g.groupId,
      groupName: g.groupName,
      groupDescription: g.description,
      vpcId: g.vpcId,
      ipPermissions: [lustreRule(988, 988, g.groupId), lustreRule(1018, 1023, g.groupId)],
      ipPermissionsEgress: [
        {
          ipProtocol: '-1',
          groups: [],
          ipRanges: [{ cidrIp: '0.0.0.0/0' }],
          ipv6Ranges: [],
          prefixListIds: [],
        },
      ],
    })),
  };
}

export function describeVpcs(ec2: Ec2Core, p: NestedParams): XmlObject {
  const ids = asStrings(p.VpcId);
  const missing = ids.filter((id) => id !== ec2.deps.network.vpcId);
  if (missing.length > 0)
    throw new LocalAwsError('InvalidVpcID.NotFound', `The vpc ID '${missing.join(', ')}' does not exist`);
  return {
    vpcSet: [
      {
        vpcId: ec2.deps.network.vpcId,
        ownerId: ec2.deps.accountId,
        state: 'available',
        cidrBlock: '10.0.0.0/16',
        dhcpOptionsId: 'dopt-00000000000000001',
        instanceTenancy: 'default',
        isDefault: false,
      },
    ],
  };
}
