import { readFileSync } from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { unique } from "./desk";

/// Records of an RFC 4180 CSV file, header first.
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n") {
      record.push(field.replace(/\r$/, ""));
      records.push(record);
      record = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || record.length > 0) records.push([...record, field]);
  return records;
}

/// The report table's data rows (week headings left out), cell by cell.
async function tableRows(page: Page): Promise<string[][]> {
  return page
    .locator("table.report tbody tr:not(.group)")
    .evaluateAll((rows) =>
      rows.map((row) => Array.from(row.querySelectorAll("td"), (td) => td.textContent ?? "")),
    );
}

async function post(request: APIRequestContext, path: string, body: object) {
  const response = await request.post(path, { data: body });
  expect(response.ok(), `${path} ${JSON.stringify(body)}`).toBeTruthy();
}

/// A SKU of the test's own with warehouse stock, two shipments (one overdue), lines
/// allocated and one out of stock.
async function seed(request: APIRequestContext) {
  const sku = unique("REPORT-LAMP");
  const batches: [string, number, string | null][] = [
    [`${sku}-stock`, 10, null],
    [`${sku}-ship-1`, 20, "2020-03-02"],
    [`${sku}-ship-2`, 30, "2099-06-01"],
  ];
  for (const [ref, qty, eta] of batches) {
    await post(request, "/add_batch", { ref, sku, qty, eta });
  }
  for (const [n, qty] of [
    [1, 8],
    [2, 5],
    [3, 40],
  ]) {
    await post(request, "/allocate", { orderid: `${sku}-order-${n}`, sku, qty });
  }
  return sku;
}

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  const cases: [string, string, string][] = [
    ["Stock position", "stock", "SKU contains"],
    ["Incoming schedule", "incoming", "SKU contains"],
    ["Allocations", "allocations", "SKU"],
    ["Out of stock", "out-of-stock", "SKU"],
  ];
  for (const [title, slug, skuLabel] of cases) {
    test(`${title}: filter, download the same rows as CSV, print`, async ({
      page,
      request,
    }, testInfo) => {
      const sku = await seed(request);
      const response = await page.goto("/reports");
      expect(response?.status()).toBe(200);
      await page.getByRole("link", { name: title }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
      await expect(page.locator("figure.chart svg")).toBeVisible();

      await page.getByLabel(skuLabel, { exact: true }).fill(sku);
      await page.getByRole("button", { name: "Apply" }).click();
      await expect(page).toHaveURL(new RegExp(`/reports/${slug}\\?.*sku=`));
      const rows = await tableRows(page);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.join(" ")).toContain(sku);

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "Download CSV" }).click(),
      ]);
      const csv = parseCsv(readFileSync(await download.path(), "utf8"));
      const headings = await page
        .locator("table.report thead th")
        .evaluateAll((cells) => cells.map((th) => (th.textContent ?? "").replace(/ [▲▼]$/, "")));
      expect(csv[0]).toEqual(headings);
      expect(csv.slice(1)).toEqual(rows);

      await page.emulateMedia({ media: "print" });
      await expect(page.locator(".masthead")).toBeHidden();
      await expect(page.locator("form.filter")).toBeHidden();
      await expect(page.locator(".report-meta")).toContainText(`Filters: ${skuLabel}: ${sku}`);
      await page.screenshot({ path: testInfo.outputPath(`${slug}-print.png`), fullPage: true });
    });
  }

  test("a bad filter value gets a 400 page that says what is wrong", async ({ page }) => {
    const response = await page.goto("/reports/incoming?from=tomorrow");
    expect(response?.status()).toBe(400);
    await expect(page.getByRole("alert")).toContainText("ETA from must be a date as YYYY-MM-DD");
    await expect(page.getByLabel("ETA from")).toBeVisible();

    // What was typed stays in the form, to be corrected.
    const long = "X".repeat(65);
    expect((await page.goto(`/reports/stock?sku=${long}`))?.status()).toBe(400);
    await expect(page.getByRole("alert")).toContainText("SKU contains must be at most 64");
    await expect(page.getByLabel("SKU contains")).toHaveValue(long);
  });

  test("columns sort by their heading", async ({ page, request }) => {
    const sku = await seed(request);
    await page.goto(`/reports/allocations?sku=${sku}`);
    await page.getByRole("link", { name: "Qty" }).click();
    await expect(page.getByRole("columnheader", { name: "Qty ▲" })).toHaveAttribute(
      "aria-sort",
      "ascending",
    );
    const ascending = (await tableRows(page)).map((row) => Number(row[3]));
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.getByRole("link", { name: "Qty ▲" }).click();
    const descending = (await tableRows(page)).map((row) => Number(row[3]));
    expect(descending).toEqual([...ascending].reverse());
  });
});

test("a report hydrates, and its sort links work in the browser", async ({ page, request }) => {
  const sku = await seed(request);
  await page.goto(`/reports/stock?sku=${sku}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Available", exact: true }).click();
  await expect(page).toHaveURL(/sort=available/);
  await expect(page.getByRole("columnheader", { name: "Available ▲" })).toBeVisible();
  await expect(page.locator("table.report tbody tr")).toHaveCount(1);
});
