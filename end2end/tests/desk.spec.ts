import { test, expect, hydrated } from "./fixtures";
import { addBatch, allocate, figure, fillAllocation, rows, unique } from "./desk";

test.describe("with JavaScript", () => {
  test("added batches are listed, warehouse stock first", async ({ page }) => {
    const sku = unique("LAMP");
    const later = unique("ship");
    const stock = unique("stock");
    await page.goto("/batches");
    await hydrated(page);
    await addBatch(page, { ref: later, sku, qty: 30, eta: "2031-05-02" });
    await addBatch(page, { ref: stock, sku, qty: 12 });

    await page.goto(`/batches?sku=${sku}`);
    expect(await rows(page, "batches")).toEqual([
      [stock, sku, "in warehouse", "12", "0", "12"],
      [later, sku, "2031-05-02", "30", "0", "30"],
    ]);
  });

  test("allocating lands on the order page showing the earliest batch", async ({ page }) => {
    const sku = unique("CHAIR");
    const early = unique("early");
    const late = unique("late");
    await addBatch(page, { ref: late, sku, qty: 10, eta: "2031-01-02" });
    await addBatch(page, { ref: early, sku, qty: 10, eta: "2031-01-01" });
    const orderid = unique("order");

    await page.goto("/allocate");
    await hydrated(page);
    await expect(page.locator(`#known-skus option[value="${sku}"]`)).toHaveCount(1);
    await fillAllocation(page, { orderid, sku, qty: 4 });
    await page.getByRole("button", { name: "Allocate", exact: true }).click();

    await expect(page).toHaveURL(`/orders/${orderid}`);
    await expect(page.locator("table.allocations")).toBeVisible();
    expect(await rows(page, "allocations")).toEqual([[sku, early, "4", "manager"]]);

    // A reload after the redirect sends nothing again.
    await page.reload();
    expect(await rows(page, "allocations")).toEqual([[sku, early, "4", "manager"]]);
    await page.goto(`/batches/${early}`);
    expect(await figure(page, "allocated")).toBe("4");
  });

  test("an unknown SKU is shown beside the field and the input is kept", async ({ page }) => {
    const orderid = unique("order");
    const sku = unique("SMALL-TABLE");
    await page.goto("/allocate");
    await hydrated(page);
    await fillAllocation(page, { orderid, sku, qty: 2 });
    await page.getByRole("button", { name: "Allocate", exact: true }).click();

    await expect(page.locator("#allocate-sku-error")).toHaveText(`Unknown SKU ${sku}`);
    await expect(page.getByLabel("SKU")).toHaveAttribute("aria-invalid", "true");
    // Refused in place: no reload, no redirect.
    await expect(page).toHaveURL("/allocate");
    await expect(page.getByLabel("Order ID")).toHaveValue(orderid);
    await expect(page.getByLabel("SKU")).toHaveValue(sku);
    await expect(page.getByLabel("Quantity")).toHaveValue("2");
  });

  test("a duplicate reference is refused beside the Reference field", async ({ page }) => {
    const ref = unique("dup");
    await addBatch(page, { ref, sku: unique("RUG"), qty: 3 });
    await page.goto("/batches");
    await hydrated(page);
    const form = page.locator("form.command");
    await form.getByLabel("Reference").fill(ref);
    await form.getByLabel("SKU").fill("ANY-SKU");
    await form.getByLabel("Quantity").fill("1");
    await form.getByRole("button", { name: "Add batch" }).click();
    await expect(page.locator("#add-batch-ref-error")).toHaveText(`Batch ${ref} already exists`);
  });

  test("a smaller batch moves the order to the next batch", async ({ page }) => {
    const sku = unique("SOFA");
    const stock = unique("stock");
    const shipment = unique("ship");
    const orderid = unique("order");
    await addBatch(page, { ref: stock, sku, qty: 10 });
    await addBatch(page, { ref: shipment, sku, qty: 10, eta: "2031-03-01" });
    await allocate(page, { orderid, sku, qty: 8 });
    await expect(page).toHaveURL(`/orders/${orderid}`);
    expect(await rows(page, "allocations")).toEqual([[sku, stock, "8", "manager"]]);

    await page.getByRole("link", { name: stock }).click();
    await expect(page).toHaveURL(`/batches/${stock}`);
    await hydrated(page);
    const form = page.locator("form.command");
    await form.getByLabel("Quantity").fill("5");
    await form.getByRole("button", { name: "Change quantity" }).click();

    // The page refreshes its figures in place.
    await expect(page.locator('[data-figure="purchased"]')).toHaveText("5");
    await expect(page.locator('[data-figure="allocated"]')).toHaveText("0");
    await page.goto(`/orders/${orderid}`);
    expect(await rows(page, "allocations")).toEqual([[sku, shipment, "8", "manager"]]);
  });

  test("deallocating a line frees its units", async ({ page }) => {
    const sku = unique("MIRROR");
    const ref = unique("stock");
    const orderid = unique("order");
    await addBatch(page, { ref, sku, qty: 6 });
    await allocate(page, { orderid, sku, qty: 6 });
    await expect(page).toHaveURL(`/orders/${orderid}`);
    await hydrated(page);

    await page.getByRole("button", { name: "Deallocate" }).click();
    await expect(page.getByText("Nothing is allocated to this order.")).toBeVisible();
    await page.goto(`/batches/${ref}`);
    expect(await figure(page, "available")).toBe("6");
  });

  test("an order with no stock shows an out-of-stock notice", async ({ page }) => {
    const sku = unique("VASE");
    const orderid = unique("order");
    await addBatch(page, { ref: unique("stock"), sku, qty: 2 });
    await allocate(page, { orderid, sku, qty: 3 });
    await expect(page).toHaveURL(`/orders/${orderid}`);
    const notice = page.locator(".notice.out-of-stock");
    await expect(notice).toContainText("Out of stock");
    await expect(notice).toContainText(`3 × ${sku}`);
  });

  test("the dashboard numbers match what was done", async ({ page }) => {
    const sku = unique("DESK");
    await addBatch(page, { ref: unique("stock"), sku, qty: 10 });
    await addBatch(page, { ref: unique("ship"), sku, qty: 15, eta: "2031-07-01" });
    await allocate(page, { orderid: unique("order"), sku, qty: 4 });
    await allocate(page, { orderid: unique("order"), sku, qty: 9 });
    const missing = unique("order");
    await allocate(page, { orderid: missing, sku, qty: 50 });

    await page.goto("/");
    const row = page.locator("table.stock tbody tr", { hasText: sku });
    await expect(row.locator("td")).toHaveText([sku, "25", "13", "12", "2", "2031-07-01"]);
    const notice = page.locator("table.notices tbody tr", { hasText: missing });
    await expect(notice.locator("td").nth(3)).toHaveText("50");

    await row.getByRole("link", { name: sku }).click();
    await expect(page).toHaveURL(`/batches?sku=${sku}`);
    expect((await rows(page, "batches")).length).toBe(2);
  });

  test("finding an order by id opens its page", async ({ page }) => {
    const sku = unique("CLOCK");
    const orderid = unique("order");
    await addBatch(page, { ref: unique("stock"), sku, qty: 5 });
    await allocate(page, { orderid, sku, qty: 1 });
    await page.goto("/orders");
    await hydrated(page);
    await page.getByLabel("Order ID").fill(orderid);
    await page.getByRole("button", { name: "Find order" }).click();
    await expect(page).toHaveURL(`/orders/${orderid}`);
    expect(await rows(page, "allocations")).toHaveLength(1);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("adding a batch and allocating post, redirect and show the result", async ({ page }) => {
    const sku = unique("NOJS");
    const ref = unique("stock");
    const orderid = unique("order");
    await addBatch(page, { ref, sku, qty: 7, eta: "2031-02-03" });
    expect(await figure(page, "purchased")).toBe("7");

    await allocate(page, { orderid, sku, qty: 5 });
    await expect(page).toHaveURL(`/orders/${orderid}`);
    expect(await rows(page, "allocations")).toEqual([[sku, ref, "5", "manager"]]);
  });

  test("a refused form shows the message and keeps the input", async ({ page }) => {
    const sku = unique("NOJS-UNKNOWN");
    const orderid = unique("order");
    await page.goto("/allocate");
    await fillAllocation(page, { orderid, sku, qty: 3 });
    await page.getByRole("button", { name: "Allocate", exact: true }).click();
    await expect(page).toHaveURL(/\/allocate\?/);
    await expect(page.locator("#allocate-sku-error")).toHaveText(`Unknown SKU ${sku}`);
    await expect(page.getByLabel("Order ID")).toHaveValue(orderid);
    await expect(page.getByLabel("SKU")).toHaveValue(sku);
    await expect(page.getByLabel("Quantity")).toHaveValue("3");
  });

  test("finding an order and deallocating work as plain forms", async ({ page }) => {
    const sku = unique("NOJS-LAMP");
    const ref = unique("stock");
    const orderid = unique("order");
    await addBatch(page, { ref, sku, qty: 4 });
    await allocate(page, { orderid, sku, qty: 4 });
    await page.goto("/orders");
    await page.getByLabel("Order ID").fill(orderid);
    await page.getByRole("button", { name: "Find order" }).click();
    await expect(page).toHaveURL(`/orders/${orderid}`);
    await page.getByRole("button", { name: "Deallocate" }).click();
    await expect(page).toHaveURL(`/orders/${orderid}`);
    await expect(page.getByText("Nothing is allocated to this order.")).toBeVisible();
  });

  test("an unknown batch is a 404 page", async ({ page }) => {
    const response = await page.goto(`/batches/${unique("missing")}`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Unknown batch");
  });
});
