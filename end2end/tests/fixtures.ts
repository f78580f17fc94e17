import { test as base, expect, type Page } from "@playwright/test";

/// Every test fails on a console error, a hydration warning or an uncaught exception in
/// the page: a broken hydration or a missing file shows up there first. Tests from
/// `anonymous` start signed out.
export const anonymous = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      // Chromium logs the status of a page that is meant to be a 404 (unknown page) or a
      // 400 (bad report filter); only those are expected.
      const errorPages = new Map<string, number>();
      page.on("response", (response) => {
        const status = response.status();
        if (response.request().resourceType() === "document" && [400, 404].includes(status)) {
          errorPages.set(response.url(), status);
        }
      });
      page.on("console", (message) => {
        // Leptos reports a hydration mismatch as a warning; it is a bug all the same.
        const hydrationWarning =
          message.type() === "warning" && /hydrat/i.test(message.text());
        if (message.type() !== "error" && !hydrationWarning) return;
        const url = message.location().url;
        const status = errorPages.get(url);
        if (status && message.text().includes(String(status))) return;
        errors.push(`${message.text()} (${url})`);
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

/// The desk's first manager: made by the first test that needs one, on the set-up page.
export const MANAGER = { username: "manager", password: "manager password" };

/// Signs in on the login page, as a person does.
export async function signIn(page: Page, account: { username: string; password: string }) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/// Tests from `test` start signed in as the manager (made first on a fresh desk).
export const test = anonymous.extend<{ signedIn: void }>({
  signedIn: [
    async ({ page }, use) => {
      await page.goto("/");
      if (new URL(page.url()).pathname === "/setup") {
        await page.getByLabel("Username").fill(MANAGER.username);
        await page.getByLabel("Password", { exact: true }).fill(MANAGER.password);
        await page.getByLabel("Password again").fill(MANAGER.password);
        await page.getByRole("button", { name: "Create the first manager" }).click();
        await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
      } else {
        await signIn(page, MANAGER);
      }
      await use();
    },
    { auto: true },
  ],
});

export { expect };

/// Resolves once the WebAssembly bundle has hydrated the page.
export async function hydrated(page: import("@playwright/test").Page) {
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
}
