/**
 * The local cloud's network: one VPC holding the subnets and security groups named in the config
 * file (`fileSystems[].subnetIds` / `securityGroupIds`), spread over the region's first three
 * Availability Zones. Security groups allow Lustre traffic (TCP 988 and 1018-1023) from themselves,
 * as the FSx documentation requires.
 */

export interface SubnetRecord {
  subnetId: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
}

export interface SecurityGroupRecord {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
}

export interface NetworkSpec {
  subnetIds?: string[];
  securityGroupIds?: string[];
}

export const DEFAULT_VPC_ID = 'vpc-00000000000000001';
export const DEFAULT_SUBNET_ID = 'subnet-00000000000000001';
export const DEFAULT_SECURITY_GROUP_ID = 'sg-00000000000000001';

export class Network {
  readonly vpcId = DEFAULT_VPC_ID;
  readonly subnets = new Map<string, SubnetRecord>();
  readonly securityGroups = new Map<string, SecurityGroupRecord>();

  constructor(private readonly region: string) {}

  addSubnet(subnetId: string): SubnetRecord {
    const existing = this.subnets.get(subnetId);
    if (existing) return existing;
    const index = this.subnets.size;
    const subnet = {
      subnetId,
      vpcId: this.vpcId,
      cidrBlock: `10.0.${index}.0/24`,
      availabilityZone: `${this.region}${'abc'[index % 3]}`,
    };
    this.subnets.set(subnetId, subnet);
    return subnet;
  }

  addSecurityGroup(groupId: string, groupName?: string): SecurityGroupRecord {
    const existing = this.securityGroups.get(groupId);
    if (existing) return existing;
    const group = {
      groupId,
      groupName:
        groupName ?? (this.securityGroups.size === 0 ? 'default' : `fsx-transfer-${groupId.slice(3, 11)}`),
      description: 'Local cloud security group (allows Lustre TCP 988, 1018-1023 from itself)',
      vpcId: this.vpcId,
    };
    this.securityGroups.set(groupId, group);
    return group;
  }

  add(spec: NetworkSpec): void {
    for (const id of spec.subnetIds ?? []) this.addSubnet(id);
    for (const id of spec.securityGroupIds ?? []) this.addSecurityGroup(id);
  }

  /** Makes sure there is at least one subnet and one security group (the defaults). */
  ensureDefaults(): void {
    if (this.subnets.size === 0) this.addSubnet(DEFAULT_SUBNET_ID);
    if (this.securityGroups.size === 0) this.addSecurityGroup(DEFAULT_SECURITY_GROUP_ID, 'default');
  }

  defaultSubnet(): SubnetRecord {
    this.ensureDefaults();
    return this.subnets.values().next().value!;
  }

  defaultSecurityGroup(): SecurityGroupRecord {
    this.ensureDefaults();
    return this.securityGroups.values().next().value!;
  }
}
