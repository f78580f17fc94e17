import { test as base, expect } from "@playwright/test";

/// Every test fails on a console error, a hydration warning or an uncaught exception in
/// the page: a broken hydration or a missing file shows up there first.
export const test = base.extend<{ consoleErrors: string[] }>({
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

export { expect };

/// Resolves once the WebAssembly bundle has hydrated the page.
export async function hydrated(page: import("@playwright/test").Page) {
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
}
