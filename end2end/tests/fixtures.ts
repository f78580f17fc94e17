import { test as base, expect } from "@playwright/test";

/// Every test fails on a console error, a hydration warning or an uncaught exception in
/// the page: a broken hydration or a missing file shows up there first.
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      // Chromium logs the 404 of a page that is meant to be a 404; only those are expected.
      const notFoundPages = new Set<string>();
      page.on("response", (response) => {
        if (response.request().resourceType() === "document" && response.status() === 404) {
          notFoundPages.add(response.url());
        }
      });
      page.on("console", (message) => {
        // Leptos reports a hydration mismatch as a warning; it is a bug all the same.
        const hydrationWarning =
          message.type() === "warning" && /hydrat/i.test(message.text());
        if (message.type() !== "error" && !hydrationWarning) return;
        const url = message.location().url;
        if (notFoundPages.has(url) && message.text().includes("404")) return;
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
