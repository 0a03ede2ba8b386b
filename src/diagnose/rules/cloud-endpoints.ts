import { Scan, diagnosis, evidence, hostOf } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * botocore's EndpointConnectionError ("Could not connect to the endpoint URL") covers a name that
 * does not resolve and a connection that fails alike (botocore/exceptions.py), so both answers are
 * offered: the name first, because the usual reason is a region or endpoint that does not exist
 * (a typo in --region or AWS_DEFAULT_REGION, a custom endpoint for S3-compatible storage).
 */

// The CLI prints the message alone; boto3 scripts (and Ansible's AWS modules) with the exception's name.
const ENDPOINT = /(?:^|EndpointConnectionError: |^fatal error: )Could not connect to the endpoint URL: "(https?:\/\/[^"]+)"/
// The shape of AWS's region names (commercial, GovCloud, China): a name of another shape is a typo; a list would
// age as regions open (ap-east-2 did), so only the shape is checked.
const REAL_REGION = /^(?:(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d|us-gov-(?:east|west)-1|cn-(?:north|northwest)-1)$/

function awsEndpoint(s: Scan): Diagnosis[] {
  const hit = s.last(ENDPOINT)
  // after_script cannot fail the job: an upload there is not why it failed.
  if (!hit || s.inAfterScript(hit.line)) return []
  const host = hostOf(hit.m[1]) ?? '<endpoint>'
  // (Also Google's spelling without the last dash, "us-east1", which is no AWS region.)
  const named = /\.([a-z]{2}(?:-[a-z]+)+-?\d+)\.amazonaws\.com/.exec(host)?.[1]
  // Only a region that does not exist is worth questioning; a real one points at the job's DNS or path.
  const region = named !== undefined && !REAL_REGION.test(named) ? named : undefined
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
