import { test, expect, hydrated } from "./fixtures";

test("the home page renders on the server and hydrates in the browser", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Allocation desk");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Allocation desk");
  await hydrated(page);
});

test("the favicon is served", async ({ request }) => {
  const response = await request.get("/favicon.ico");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("image");
});

test("an unknown page is a 404 with a way back", async ({ page, consoleErrors }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  // Chromium logs the 404 of the document itself; that one is expected.
  const expected = (e: string) => e.includes("404") && e.includes("/no/such/page");
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !expected(e)));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Back to the desk" }).click();
  await expect(page).toHaveURL("/");
});
