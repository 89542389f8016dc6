export function ImportWizard({ batchId }: { batchId?: string }) {
  return <h1 tabIndex={-1}>Import Users {batchId}</h1>;
}
