import { Scan, diagnosis, evidence, hostOf, phaseName } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * botocore's EndpointConnectionError ("Could not connect to the endpoint URL") covers a name that
 * does not resolve and a connection that fails alike (botocore/exceptions.py), so both answers are
 * offered: the name first, because the usual reason is a region or endpoint that does not exist
 * (a typo in --region or AWS_DEFAULT_REGION, a custom endpoint for S3-compatible storage).
 */

// The CLI prints the message alone; boto3 scripts (and Ansible's AWS modules) with the exception's name.
const ENDPOINT = /(?:^|EndpointConnectionError: )Could not connect to the endpoint URL: "(https?:\/\/[^"]+)"/
// AWS's region names (commercial, GovCloud, China): a region of that shape exists or is a typo of one.
const REAL_REGION = /^(?:(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d|us-gov-(?:east|west)-1|cn-(?:north|northwest)-1)$/
const REGIONS = new Set(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1', 'me-central-1', 'mx-central-1', 'sa-east-1', 'us-gov-east-1', 'us-gov-west-1', 'cn-north-1', 'cn-northwest-1'])

function awsEndpoint(s: Scan): Diagnosis[] {
  const hit = s.last(ENDPOINT)
  // after_script cannot fail the job: an upload there is not why it failed.
  if (!hit || /after_script/.test(phaseName(hit.line.section)) || s.ev.trace.lines.some((l) => l.n < hit.line.n && /^Running after_script|^Running after script/.test(l.text))) return []
  const host = hostOf(hit.m[1]) ?? '<endpoint>'
  const named = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com/.exec(host)?.[1]
  // Only a region that does not exist is worth questioning; a real one points at the job's DNS or path.
  const region = named !== undefined && !(REGIONS.has(named) && REAL_REGION.test(named)) ? named : undefined
  const ev = evidence(s.commandAt(hit.line.n), hit)
  return [
    diagnosis('dns_resolution_failure', `The AWS CLI could not reach ${host}`,
      `The AWS client built the endpoint ${host}${region ? ` from the region "${region}", which is not an AWS region` : ''} and could not connect to it. botocore says this both when the name does not resolve — a region or endpoint that does not exist, or no DNS in the job — and when the connection fails.`,
      ev, [
        { text: `Check the region and endpoint the job uses (--region, AWS_DEFAULT_REGION / AWS_REGION, --endpoint-url)${region ? `: is "${region}" a real region?` : ''}`, snippet: 'script:\n  - echo "$AWS_DEFAULT_REGION $AWS_REGION"\n  - aws configure list' },
        { text: 'Check that the job resolves the name at all.', snippet: `script:\n  - getent hosts ${host} || nslookup ${host}` },
      ], 0.6),
    diagnosis('egress_blocked_firewall', `Or: traffic from the job to ${host} is blocked`,
      `If the name resolves, the connection itself failed: a firewall, a missing proxy setting (HTTPS_PROXY) or a VPC without a route or endpoint for ${host}.`,
      ev, [
        { text: 'Test the path from a job on the same runner; behind a proxy, set HTTPS_PROXY and NO_PROXY for the job.', snippet: `script:\n  - curl -sv -o /dev/null https://${host}/` },
      ], 0.45),
  ]
}

export const cloudEndpointsRule: Rule = {
  id: 'cloud-endpoints',
  categories: ['dns_resolution_failure', 'egress_blocked_firewall'],
  match(ev) {
    return awsEndpoint(Scan.of(ev))
  },
}
