//! What the recovery tests share: driving a recovery flow's pages, which all live at one URL
//! (`/recovery/password`, `/recovery/identifier`) and answer each POST with a redirect to it.

use idp_tests::TestApp;
use idp_tests::browser::{Browser, Page};

pub(crate) struct FlowPages<'a> {
    pub app: &'a TestApp,
    pub path: &'static str,
}

impl FlowPages<'_> {
    /// The first page of the type's recovery (the `user_type` hint skips the selector).
    pub async fn first_page(&self, browser: &Browser, user_type: &str) -> Page {
        let page = browser.get(&self.app.url(&format!("{}?user_type={user_type}", self.path))).await;
        assert_eq!(page.status, 200, "the first page: {}", page.body);
        assert!(page.body.contains("Étape 1 sur"), "the progress: {}", page.body);
        page
    }

    /// Posts `fields` with the CSRF token of `page`.
    pub async fn submit(&self, browser: &Browser, page: &Page, fields: &[(&str, &str)]) -> Page {
        let csrf = page.field("csrf").expect("a form with a CSRF token");
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        browser.post(&self.app.url(&format!("{}?lang=fr", self.path)), &form).await
    }

    /// Follows the redirect of a POST to the flow's page.
    pub async fn next(&self, browser: &Browser, answer: &Page) -> Page {
        assert_eq!(answer.status, 303, "expected a redirect to the next step: {}", answer.body);
        let location = answer.location().unwrap();
        assert!(location.starts_with(self.path), "{location}");
        browser.get(&self.app.url(&location)).await
    }
}
