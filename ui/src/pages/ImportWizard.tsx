// "Import Users": the wizard of the help article. A new import (`/imports/new`) walks
// through steps 1-3 (what will happen, the template, the upload); once the server has the
// file, the batch's own address (`/imports/<id>`) takes over and resumes at the batch's
// state whenever it is opened: checking (VALIDATING), review and access (IN_REVIEW),
// registering (COMMITTING), the summary (COMPLETED), or cancelled.
import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { can, useCaller } from "../caller";
import { useEffect, useState } from "preact/hooks";
import { Confirm } from "../components/Confirm";
import { ProblemMessage, describeError } from "../components/Problem";
import { formatDateTime, formatNumber, plural } from "../components/format";
import { AccessStep } from "../components/import/AccessStep";
import { ErrorReportLink } from "../components/import/ErrorReportLink";
import { Cancelled, CheckingProgress, CreatingProgress, Summary } from "../components/import/Outcome";
import { RevertButton, RevertSummary, RevertingProgress } from "../components/import/Revert";
import { ReviewTable } from "../components/import/ReviewTable";
import { ReviseUpload } from "../components/import/ReviseUpload";
import {
  StepHeading,
  StepIndicator,
  moveFocusToNextStep,
  useFocusOnStepChange,
} from "../components/import/StepIndicator";
import { TemplateLink, TemplateTip } from "../components/import/TemplateLink";
import { UploadZone } from "../components/import/UploadZone";
import { type Batch, type Progress, isFinal, newer } from "../components/import/types";
import batchQuery from "../operations/import/ImportBatch.graphql?raw";
import cancelMutation from "../operations/import/CancelImport.graphql?raw";
import progressSubscription from "../operations/import/ImportProgress.graphql?raw";
import { Link, location$, navigate } from "../router";
import "./ImportWizard.css";

export function ImportWizard({ batchId }: { batchId?: string }) {
  return (
    <section class="import-wizard" aria-labelledby="import-users-title">
      <h1 id="import-users-title" tabIndex={-1}>
        Import Users
      </h1>
      {batchId ? <BatchWizard key={batchId} batchId={batchId} /> : <NewImport />}
    </section>
  );
}

// ------------------------------------------------------------------ steps 1 to 3, before the file

const NEW_STEPS: Record<number, string> = { 1: "", 2: "template", 3: "upload" };

function NewImport() {
  const step = location$.value.query.get("step");
  const current = step === "template" ? 2 : step === "upload" ? 3 : 1;
  const go = (to: number) => {
    moveFocusToNextStep();
    navigate(`/imports/new${NEW_STEPS[to] ? `?step=${NEW_STEPS[to]}` : ""}`);
  };
  const reachable = { 1: () => go(1), 2: () => go(2), 3: () => go(3) };
  return (
    <>
      <StepIndicator current={current} reachable={reachable} />
      {current === 1 && (
        <div class="wizard-step">
          <StepHeading>Import</StepHeading>
          <p>Register many users at once from a CSV file. This is what will happen:</p>
          <ol class="what-happens">
            <li>
              You download the CSV template and fill in one person per row: first name, last name and email (their
              access email). A username is optional.
            </li>
            <li>
              You upload the file. <strong>Every row is checked before anyone is registered</strong>; nobody is
              registered until you say so.
            </li>
            <li>
              You review the rows: the ones with errors are marked, and can be corrected here or excluded.
            </li>
            <li>You choose the access the new users get: Assign Groups, Mirror User or Customize individually.</li>
            <li>
              You create the users. <strong>Each new user gets an invitation at their access email</strong> and stays{" "}
              <em>Pending</em> until they accept it.
            </li>
          </ol>
          <div class="actions wizard-nav">
            <button type="button" class="primary" onClick={() => go(2)}>
              Next
            </button>
          </div>
        </div>
      )}
      {current === 2 && (
        <div class="wizard-step">
          <StepHeading>Download CSV Template</StepHeading>
          <p>Download the template and fill it in, one person per row.</p>
          <p>
            <TemplateLink primary />
          </p>
          <TemplateTip />
          <div class="actions wizard-nav">
            <button type="button" onClick={() => go(1)}>
              Back
            </button>
            <button type="button" class="primary" onClick={() => go(3)}>
              Next
            </button>
          </div>
        </div>
      )}
      {current === 3 && (
        <div class="wizard-step">
          <StepHeading>Upload and review</StepHeading>
          <p>
            Upload the filled-in template. The whole file is checked first; then every row is shown for review before
            anyone is registered. No template yet? <TemplateLink />
          </p>
          <UploadZone
            onStarted={(id) => {
              moveFocusToNextStep();
              navigate(`/imports/${encodeURIComponent(id)}`, { replace: true });
            }}
          />
          <div class="actions wizard-nav">
            <button type="button" onClick={() => go(2)}>
              Back
            </button>
          </div>
        </div>
      )}
    </>
  );
}

// ------------------------------------------------------------------ a batch, at its state

type Cancelling = { __typename: string; message?: string };

function BatchWizard({ batchId }: { batchId: string }) {
  const [{ data, error, fetching }, refetch] = useQuery<{ importBatch: Batch | null }>({
    query: batchQuery,
    variables: { id: batchId },
    requestPolicy: "cache-and-network",
  });
  const batch = data?.importBatch ?? null;
  const [live] = useSubscription<{ importProgress: Progress }>({
    query: progressSubscription,
    variables: { batchId },
    pause: !batch || isFinal(batch.status),
  });
  const reported = live.data?.importProgress;
  const progress = newer(reported, batch?.progress);
  const [cancelling, setCancelling] = useState(false);
  const [cancelProblem, setCancelProblem] = useState<string | null>(null);
  const [, cancel] = useMutation<{ cancelImport: Cancelling }>(cancelMutation);

  const reload = () => refetch({ requestPolicy: "network-only" });
  const mayRevert = can(useCaller(), "manageUsers");
  const atAccess = progress?.status === "IN_REVIEW" && location$.value.query.get("step") === "access";
  useFocusOnStepChange(`${progress?.status}${atAccess ? ":access" : ""}`);

  // The batch moved on (checked, registered): read it again (its access, its counts).
  useEffect(() => {
    if (batch && reported && reported.status !== batch.status) reload();
  }, [reported?.status]);

  // Without the live feed (a socket refused on the way), the batch is asked for instead.
  const waiting =
    progress && (progress.status === "VALIDATING" || progress.status === "COMMITTING" || progress.status === "REVERTING");
  useEffect(() => {
    if (!live.error || !waiting) return;
    const timer = setInterval(reload, 2000);
    return () => clearInterval(timer);
  }, [live.error, waiting]);

  if (!batch || !progress) {
    if (fetching) return <p class="loading" role="status">Loading the import…</p>;
    if (error) return <ProblemMessage error={error} />;
    return (
      <div class="wizard-step">
        <p class="problem" role="alert">
          No import has this address: it may have been mistyped.
        </p>
        <p>
          See the <Link href="/imports">Imports</Link>, or <Link href="/imports/new">start a new import</Link>.
        </p>
      </div>
    );
  }

  const status = progress.status;
  const here = `/imports/${encodeURIComponent(batch.id)}`;
  const toReview = () => {
    moveFocusToNextStep();
    navigate(here);
  };
  const toAccess = () => {
    moveFocusToNextStep();
    navigate(`${here}?step=access`);
  };
  const current =
    status === "VALIDATING" ? 3 : status === "IN_REVIEW" ? (atAccess ? 4 : 3) : status === "CANCELLED" ? 0 : 5;

  async function cancelImport() {
    const result = await cancel({ batchId: batch!.id });
    setCancelling(false);
    const outcome = result.data?.cancelImport;
    if (outcome?.__typename === "ImportBatch") {
      moveFocusToNextStep();
      navigate(here, { replace: true });
      reload();
    } else {
      setCancelProblem(
        outcome?.message ?? (result.error ? describeError(result.error) : "The import could not be cancelled."),
      );
    }
  }

  const cancelButton = (
    <button type="button" class="danger-outline" onClick={() => setCancelling(true)}>
      Cancel import
    </button>
  );

  return (
    <>
      <StepIndicator current={current} reachable={status === "IN_REVIEW" ? { 3: toReview, 4: toAccess } : {}} />
      <p class="batch-info">
        File <strong>{batch.filename}</strong>, uploaded by {batch.createdBy} on {formatDateTime(batch.createdAt)}.
      </p>

      {status === "VALIDATING" && (
        <div class="wizard-step">
          <StepHeading>Checking the file</StepHeading>
          <CheckingProgress progress={progress} />
          <div class="actions wizard-nav">{cancelButton}</div>
        </div>
      )}

      {status === "IN_REVIEW" && !atAccess && (
        <div class="wizard-step">
          <StepHeading>Upload and review</StepHeading>
          <p class="review-summary">
            {plural(progress.total, "row")}: {formatNumber(progress.valid)} valid,{" "}
            {formatNumber(progress.invalid)} with errors, {formatNumber(progress.excluded)} excluded.{" "}
            {progress.invalid > 0
              ? "Correct the rows marked with an X, or exclude them; rows still with errors are excluded when the users are created."
              : "Every row left in is valid."}
          </p>
          {(progress.existing ?? 0) > 0 && (
            <p class="existing-summary">
              {plural(progress.existing ?? 0, "row")} of people registered already: not errors. Choose what to do
              with each (Skip leaves them as they are).
            </p>
          )}
          <ReviewTable batchId={batch.id} filename={batch.filename} progress={progress} onChanged={reload} />
          <section class="in-a-spreadsheet" aria-labelledby="in-a-spreadsheet-title">
            <h3 id="in-a-spreadsheet-title">Correct in a spreadsheet</h3>
            <p>
              Download the error report, correct its rows in a spreadsheet and upload the file here as it is: each
              line replaces the row of its number, and a line without a row number is added as a new row.
            </p>
            <div class="actions">
              {progress.invalid > 0 && <ErrorReportLink url={batch.errorReportUrl} batchId={batch.id} />}
              <ReviseUpload batchId={batch.id} before={progress} onRevised={reload} />
            </div>
          </section>
          <div class="actions wizard-nav">
            {cancelButton}
            <button type="button" class="primary" onClick={toAccess}>
              Next
            </button>
          </div>
        </div>
      )}

      {status === "IN_REVIEW" && atAccess && (
        <div class="wizard-step">
          <StepHeading>Access</StepHeading>
          <AccessStep
            batch={batch}
            progress={progress}
            onCommitted={() => {
              moveFocusToNextStep();
              navigate(here, { replace: true });
              reload();
            }}
          />
          <div class="actions wizard-nav">
            {cancelButton}
            <button type="button" onClick={toReview}>
              Back
            </button>
          </div>
        </div>
      )}

      {status === "COMMITTING" && (
        <div class="wizard-step">
          <StepHeading>Create users</StepHeading>
          <CreatingProgress progress={progress} />
          <div class="actions wizard-nav">{cancelButton}</div>
        </div>
      )}

      {status === "COMPLETED" && (
        <div class="wizard-step">
          <StepHeading>Import complete</StepHeading>
          <Summary batch={batch} progress={progress} />
          {mayRevert && progress.created > 0 && (
            <div class="actions wizard-nav">
              <RevertButton batch={batch} onStarted={reload} />
            </div>
          )}
        </div>
      )}

      {status === "REVERTING" && (
        <div class="wizard-step">
          <StepHeading>Reverting the import</StepHeading>
          <RevertingProgress progress={progress} />
        </div>
      )}

      {status === "REVERTED" && (
        <div class="wizard-step">
          <StepHeading>Import reverted</StepHeading>
          <RevertSummary batchId={batch.id} />
        </div>
      )}

      {status === "CANCELLED" && (
        <div class="wizard-step">
          <StepHeading>Import cancelled</StepHeading>
          <Cancelled progress={progress} />
        </div>
      )}

      {cancelProblem && (
        <p class="problem" role="alert">
          {cancelProblem}
        </p>
      )}

      {cancelling && (
        <Confirm
          title="Cancel this import?"
          confirmLabel="Cancel import"
          cancelLabel="Keep the import"
          danger
          onCancel={() => setCancelling(false)}
          onConfirm={() => void cancelImport()}
        >
          <p>
            {status === "COMMITTING"
              ? `No more rows of ${batch.filename} will be registered; the ${plural(progress.created, "user")} created so far stay.`
              : `Nobody from ${batch.filename} will be registered, and this import cannot be taken up again.`}
          </p>
        </Confirm>
      )}
    </>
  );
}
