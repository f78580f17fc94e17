import { expect, type Page } from "@playwright/test";

let counter = 0;
/// A name no other test uses: all tests share one server and one database.
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export async function addBatch(
  page: Page,
  batch: { ref: string; sku: string; qty: number; eta?: string },
) {
  await page.goto("/batches");
  const form = page.locator("form.command");
  await form.getByLabel("Reference").fill(batch.ref);
  await form.getByLabel("SKU").fill(batch.sku);
  await form.getByLabel("Quantity").fill(String(batch.qty));
  if (batch.eta) await form.getByLabel("ETA").fill(batch.eta);
  await form.getByRole("button", { name: "Add batch" }).click();
  await expect(page).toHaveURL(`/batches/${batch.ref}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Batch ${batch.ref}`);
}

/// Allocates a line on the form and waits for the order's page: allocated or out of
/// stock, an accepted line always ends there.
export async function allocate(page: Page, line: { orderid: string; sku: string; qty: number }) {
  await page.goto("/allocate");
  await fillAllocation(page, line);
  await page.getByRole("button", { name: "Allocate", exact: true }).click();
  await expect(page).toHaveURL(`/orders/${encodeURIComponent(line.orderid)}`);
}

export async function fillAllocation(
  page: Page,
  line: { orderid: string; sku: string; qty: number },
) {
  const form = page.locator("form.command");
  await form.getByLabel("Order ID").fill(line.orderid);
  await form.getByLabel("SKU").fill(line.sku);
  await form.getByLabel("Quantity").fill(String(line.qty));
}

/// The rows of the table under `page`, as arrays of cell texts.
export async function rows(page: Page, table: string): Promise<string[][]> {
  const body = page.locator(`table.${table} tbody tr`);
  return body.evaluateAll((trs) =>
    trs.map((tr) =>
      Array.from(tr.querySelectorAll("td"))
        .map((td) => (td.textContent ?? "").trim())
        .filter((text) => text !== "Deallocate"),
    ),
  );
}

export async function figure(page: Page, name: string): Promise<string> {
  return (await page.locator(`[data-figure="${name}"]`).textContent())?.trim() ?? "";
}
