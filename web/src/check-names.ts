/**
 * The verifier's checks in plain words (docs/verification.md §11 and §7.2):
 * what a reader sees first; the technical id stays one click away.
 */
const PLAIN: Readonly<Record<string, string>> = {
  document: 'The file is one well-formed certificate, read strictly',
  events: 'Events link into one unbroken chain, in the order a run goes',
  merkle: 'The Merkle root covers every event',
  report_data: 'The attested data binds this root, run and sealing time',
  attestation: 'The attestation signs this certificate',
  fields: 'Every field shown matches what the events record',
  transparency: "The transparency log's inclusion proof and signed checkpoint cover this certificate",
  build: "The sandbox's tools are those of the build you trust",
  'attestation.quote.structure': 'The TDX quote is well-formed',
  'attestation.quote.debug': 'The machine is not a debug TD',
  'attestation.report_data': "The hardware quote carries this certificate's data",
  'attestation.collateral': "Intel's certificates and revocation lists are authentic and current",
  'attestation.dcap': "Intel's signature chain vouches for the quote",
  'attestation.tcb_status': "The platform's security patch level is accepted by your policy",
  'attestation.rtmr3': 'The runtime event log replays to the measured value',
  'attestation.compose_hash': 'The app build is one you trust',
};

/** A check's plain name; an id this page does not know is shown as it is. */
export function plainCheckName(id: string): string {
  return Object.hasOwn(PLAIN, id) ? PLAIN[id]! : id;
}
