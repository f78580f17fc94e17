import { test, expect, hydrated } from "./fixtures";

test("the dashboard renders on the server and hydrates in the browser", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Stock · Allocation desk");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Stock");
  await hydrated(page);
});

test("the favicon is served", async ({ request }) => {
  const response = await request.get("/favicon.ico");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("image");
});

test("an unknown page is a 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Back to the desk" }).click();
  await expect(page).toHaveURL("/");
});

test("every page is reachable from the navigation", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const [name, url, heading] of [
    ["Batches", "/batches", "Batches"],
    ["Allocate", "/allocate", "Allocate order line"],
    ["Orders", "/orders", "Orders"],
    ["Reports", "/reports", "Reports"],
    ["Activity", "/activity", "Activity"],
    ["Accounts", "/accounts", "Accounts"],
    ["Stock", "/", "Stock"],
  ]) {
    await nav.getByRole("link", { name, exact: true }).click();
    await expect(page).toHaveURL(url);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
  }
});
