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

/** DescribeInstances filters: each name and the values of an instance it matches against. */
const INSTANCE_FILTERS: Record<string, (record: InstanceRecord) => (string | undefined)[]> = {
  'instance-id': (r) => [r.instanceId],
  'instance-state-name': (r) => [r.state],
  'instance-state-code': (r) => [String(STATE_CODES[r.state])],
  'instance-type': (r) => [r.instanceType],
  'image-id': (r) => [r.imageId],
  'subnet-id': (r) => [r.subnetId],
  'vpc-id': (r) => [r.vpcId],
  'availability-zone': (r) => [r.availabilityZone],
  'reservation-id': (r) => [r.reservationId],
  'client-token': (r) => [r.clientToken],
  'tag-key': (r) => r.tags.map((t) => t.key),
  'tag-value': (r) => r.tags.map((t) => t.value),
  'private-ip-address': (r) => [r.privateIpAddress],
  'iam-instance-profile.arn': (r) => [r.iamInstanceProfile?.arn],
  'key-name': (r) => [r.keyName],
};

/** Whether an instance passes one DescribeInstances filter (values may use `*` and `?`). */
function instanceMatches(record: InstanceRecord, filter: { name: string; values: string[] }): boolean {
  const candidates = filter.name.startsWith('tag:')
    ? record.tags.filter((t) => t.key === filter.name.slice(4)).map((t) => t.value)
    : (INSTANCE_FILTERS[filter.name]?.(record) ?? []);
  return candidates.some((c) => c !== undefined && filter.values.some((v) => globMatch(v, c)));
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
  const filters = filtersOf(p, new Set(Object.keys(INSTANCE_FILTERS)));
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

/**
 * The network records a Describe* action selects: those named in `ids` (each must exist, else
 * `notFound` with the missing ids), narrowed by filters on `fields` (values may use `*` and `?`;
 * a `tag:` filter matches nothing, the local network has no tags).
 */
function selectNetwork<R>(
  p: NestedParams,
  request: {
    ids: string[];
    records: Map<string, R>;
    notFound: (missing: string) => LocalAwsError;
    fields: Record<string, (record: R) => string>;
  },
): R[] {
  const missing = request.ids.filter((id) => !request.records.has(id));
  if (missing.length > 0) throw request.notFound(missing.join(', '));
  const filters = filtersOf(p, new Set(Object.keys(request.fields)));
  return [...request.records.entries()]
    .filter(([id]) => request.ids.length === 0 || request.ids.includes(id))
    .map(([, record]) => record)
    .filter((record) =>
      filters.every((f) => {
        const value = request.fields[f.name]?.(record);
        return value !== undefined && f.values.some((v) => globMatch(v, value));
      }),
    );
}

export function describeSubnets(ec2: Ec2Core, p: NestedParams): XmlObject {
  const subnets = selectNetwork(p, {
    ids: asStrings(p.SubnetId),
    records: ec2.deps.network.subnets,
    notFound: (missing) =>
      new LocalAwsError('InvalidSubnetID.NotFound', `The subnet ID '${missing}' does not exist`),
    fields: {
      'subnet-id': (s) => s.subnetId,
      'vpc-id': (s) => s.vpcId,
      'availability-zone': (s) => s.availabilityZone,
      state: () => 'available',
    },
  });
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
  const groups = selectNetwork(p, {
    ids: asStrings(p.GroupId),
    records: ec2.deps.network.securityGroups,
    notFound: (missing) =>
      new LocalAwsError('InvalidGroup.NotFound', `The security group '${missing}' does not exist`),
    fields: { 'group-id': (g) => g.groupId, 'group-name': (g) => g.groupName, 'vpc-id': (g) => g.vpcId },
  });
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
