// "Download CSV Template": a plain link to the server's file (the template holds no data,
// so it needs no token), so the bytes saved are exactly the server's.
import { useQuery } from "@urql/preact";
import templateQuery from "../../operations/import/ImportTemplate.graphql?raw";

type Template = { url: string; filename: string; columns: string[] };

export function useTemplate(): Template | undefined {
  const [{ data }] = useQuery<{ importTemplate: Template }>({ query: templateQuery, requestPolicy: "cache-first" });
  return data?.importTemplate;
}

export function TemplateLink({ primary = false }: { primary?: boolean }) {
  const template = useTemplate();
  // Until the query answers, the README's address of the same file.
  const url = template?.url ?? "/imports/template.csv";
  return (
    <a class={primary ? "button primary" : undefined} href={url} download={template?.filename ?? ""}>
      Download CSV Template
    </a>
  );
}

/** The tip of the help article: keep it a .csv file and keep the column names. */
export function TemplateTip() {
  const template = useTemplate();
  const columns = template?.columns ?? ["first_name", "last_name", "email", "username"];
  return (
    <p class="tip">
      <strong>Tip:</strong> keep the file in <strong>.csv</strong> format (in a spreadsheet, save as “CSV UTF-8”) and
      keep the column names as they are:{" "}
      {columns.map((column, index) => (
        <span key={column}>
          {index > 0 && ", "}
          <code>{column}</code>
        </span>
      ))}
      . The first three are required; <code>{columns[3] ?? "username"}</code> may be left empty.
    </p>
  );
}
