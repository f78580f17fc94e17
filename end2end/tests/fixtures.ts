import { test as base, expect } from "@playwright/test";

/// Every test fails on a console error or an uncaught exception in the page: a broken
/// hydration or a missing file shows up there first.
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") {
          errors.push(`${message.text()} (${message.location().url})`);
        }
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
