/**
 * The XML shapes of EC2 answers about instances: a reservation (`RunInstances`, an item of
 * `DescribeInstances`'s reservationSet) and an instance, with the fields the SDK v3 and botocore
 * parse (a terminated instance loses its network fields, as on AWS).
 */
import type { XmlObject } from '../protocols/query.js';
import { type Ec2Core, type InstanceRecord, STATE_CODES } from './core.js';

export function reservationXml(ec2: Ec2Core, reservationId: string): XmlObject {
  const records = [...ec2.instances.values()].filter((r) => r.reservationId === reservationId);
  return reservationObject(ec2, reservationId, records) as XmlObject;
}

export function reservationObject(ec2: Ec2Core, reservationId: string, records: InstanceRecord[]): XmlObject {
  return {
    reservationId,
    ownerId: ec2.deps.accountId,
    groupSet: [],
    instancesSet: records.map((r) => instanceObject(ec2, r)),
  };
}

function instanceObject(ec2: Ec2Core, r: InstanceRecord): XmlObject {
  const privateDnsName = `ip-${r.privateIpAddress.replace(/\./g, '-')}.ec2.internal`;
  const groupSet = r.securityGroups.map((g) => ({ groupId: g.groupId, groupName: g.groupName }));
  return {
    instanceId: r.instanceId,
    imageId: r.imageId,
    instanceState: { code: STATE_CODES[r.state], name: r.state },
    privateDnsName: r.state === 'terminated' ? '' : privateDnsName,
    dnsName: '',
    reason: r.stateTransitionReason,
    keyName: r.keyName,
    amiLaunchIndex: r.amiLaunchIndex,
    productCodes: [],
    instanceType: r.instanceType,
    launchTime: r.launchTime,
    placement: { availabilityZone: r.availabilityZone, groupName: '', tenancy: 'default' },
    monitoring: { state: r.monitoring },
    subnetId: r.state === 'terminated' ? undefined : r.subnetId,
    vpcId: r.state === 'terminated' ? undefined : r.vpcId,
    privateIpAddress: r.state === 'terminated' ? undefined : r.privateIpAddress,
    ipAddress: r.state === 'running' ? r.publicIpAddress : undefined,
    sourceDestCheck: true,
    groupSet,
    stateReason: r.stateReason,
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping:
      r.state === 'terminated'
        ? []
        : r.blockDeviceMappings.map((b) => ({
            deviceName: b.deviceName,
            ebs: {
              volumeId: b.volumeId,
              status: 'attached',
              attachTime: b.attachTime,
              deleteOnTermination: b.deleteOnTermination,
            },
          })),
    virtualizationType: 'hvm',
    clientToken: r.clientToken ?? '',
    tagSet: r.tags.length > 0 ? r.tags.map((t) => ({ key: t.key, value: t.value })) : undefined,
    hypervisor: 'xen',
    networkInterfaceSet:
      r.state === 'terminated'
        ? []
        : [
            {
              networkInterfaceId: r.networkInterfaceId,
              subnetId: r.subnetId,
              vpcId: r.vpcId,
              description: '',
              ownerId: ec2.deps.accountId,
              status: 'in-use',
              macAddress: '02:00:00:00:00:01',
              privateIpAddress: r.privateIpAddress,
              privateDnsName,
              sourceDestCheck: true,
              groupSet,
              attachment: {
                attachmentId: `eni-attach-${r.networkInterfaceId.slice(4)}`,
                deviceIndex: 0,
                status: 'attached',
                attachTime: r.launchTime,
                deleteOnTermination: true,
                networkCardIndex: 0,
              },
              association: r.publicIpAddress
                ? { publicIp: r.publicIpAddress, publicDnsName: '', ipOwnerId: 'amazon' }
                : undefined,
              privateIpAddressesSet: [
                { privateIpAddress: r.privateIpAddress, privateDnsName, primary: true },
              ],
              interfaceType: 'interface',
            },
          ],
    iamInstanceProfile: r.iamInstanceProfile,
    ebsOptimized: r.ebsOptimized,
    enaSupport: true,
    metadataOptions: { state: 'applied', ...r.metadataOptions },
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
    bootMode: 'uefi-preferred',
    currentInstanceBootMode: 'uefi',
  };
}
