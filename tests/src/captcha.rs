//! Solving the arithmetic captcha as a person would: from the operation shown ("9 + 0").

use crate::browser::Page;

/// The answer to an operation as `account::captcha` shows it: "a + b" or "a − b".
pub fn solve_operation(operation: &str) -> String {
    let parts: Vec<&str> = operation.split(' ').collect();
    let (a, b): (u32, u32) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
    match parts[1] {
        "+" => (a + b).to_string(),
        "−" => (a - b).to_string(),
        other => panic!("unexpected operator {other} in {operation}"),
    }
}

/// The answer to the arithmetic captcha of a page (`captcha_fields.html`).
pub fn solve_page(page: &Page) -> String {
    let start = page.body.find("class=\"captcha__operation\">").expect("an arithmetic captcha") + 27;
    solve_operation(&page.body[start..start + page.body[start..].find(" = ?").unwrap()])
}
