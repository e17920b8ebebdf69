//! The admin REST API (issue #12) end to end: every operation with a real `client_credentials`
//! token from /token, the OpenAPI document, RFC 9457 problems for bad input, RFC 6750
//! challenges for missing or dead tokens, and client secrets only where they are shown once.
//! The role matrix is in `admin_api_roles`.

use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support_protocol::{World, basic, machine, post_token};

/// A machine client allowed `scopes`, and a token holding them all.
pub struct Api {
    pub app: TestApp,
    pub token: String,
}

/// An answer of the API: status, headers, body as JSON (`Null` when empty) and as text.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts the answer is an RFC 9457 problem with `status`.
    pub fn assert_problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.header("content-type"), "application/problem+json", "{}", self.text);
        assert_eq!(self.json["status"], status.as_u16(), "{}", self.text);
        assert!(self.json["type"].is_string() && self.json["title"].is_string(), "{}", self.text);
    }
}

/// Registers `id` as a client_credentials client allowed `scopes`; returns its secret.
pub async fn machine_client(app: &TestApp, id: &str, scopes: &[&str]) -> String {
    let spec = ClientSpec {
        id: id.into(),
        grants: vec!["client_credentials".into()],
        settings: ClientSettings {
            allowed_scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    app.client(spec).await.1.expect("a confidential client gets a secret")
}

/// A client_credentials token of `id` for `scope`.
pub async fn token_for(app: &TestApp, id: &str, secret: &str, scope: &str) -> String {
    let answer =
        post_token(app, Some(&basic(id, secret)), &[("grant_type", "client_credentials"), ("scope", scope)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    answer.json["access_token"].as_str().unwrap().to_owned()
}

impl Api {
    /// A fresh provider and a token of the machine client `ops` holding `scopes`.
    pub async fn with_scopes(scopes: &[&str]) -> Api {
        let app = TestApp::spawn().await;
        Api::on(app, scopes).await
    }

    pub async fn on(app: TestApp, scopes: &[&str]) -> Api {
        let secret = machine_client(&app, "ops", scopes).await;
        let token = token_for(&app, "ops", &secret, &scopes.join(" ")).await;
        Api { app, token }
    }

    pub async fn admin() -> Api {
        Api::with_scopes(&["idp.admin"]).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = machine().request(method, self.app.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }
}

pub async fn read(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    Reply { status, headers, json, text }
}

/// Every operation of the API, as (method, path) in the OpenAPI document.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/admin/api/v1/clients"),
    ("post", "/admin/api/v1/clients"),
    ("get", "/admin/api/v1/clients/{id}"),
    ("delete", "/admin/api/v1/clients/{id}"),
    ("post", "/admin/api/v1/users"),
    ("post", "/admin/api/v1/users/import"),
    ("get", "/admin/api/v1/groups"),
    ("post", "/admin/api/v1/groups"),
    ("get", "/admin/api/v1/groups/{id}"),
    ("put", "/admin/api/v1/groups/{id}/members/{login}"),
    ("delete", "/admin/api/v1/groups/{id}/members/{login}"),
    ("get", "/admin/api/v1/user-types"),
    ("get", "/admin/api/v1/keys"),
    ("post", "/admin/api/v1/keys/rotate"),
];

// --- The OpenAPI document ---

#[tokio::test]
async fn the_openapi_document_is_openapi_3_1_and_lists_every_operation_with_its_scopes() {
    let app = TestApp::spawn().await;

    let reply = read(machine().get(app.url("/admin/api/openapi.json"))).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let doc = &reply.json;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer", "{doc}");
    let mut listed: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            listed.push((method.clone(), path.clone()));
            let security = operation["security"].as_array().unwrap_or_else(|| panic!("{method} {path}: no security"));
            assert!(
                security.iter().all(|r| r["bearer"].as_array().is_some_and(|s| !s.is_empty())),
                "{method} {path}: every requirement names the bearer scheme and a scope"
            );
            assert!(operation["responses"]["401"].is_object(), "{method} {path}: 401 undocumented");
        }
    }
    listed.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS.iter().map(|(m, p)| ((*m).into(), (*p).into())).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

// --- Clients ---

#[tokio::test]
async fn an_admin_token_registers_shows_lists_and_deletes_a_client_whose_secret_is_shown_once() {
    let api = Api::admin().await;

    let created = api
        .post(
            "/admin/api/v1/clients",
            json!({"id": "batch", "name": "Batch", "grant_types": ["client_credentials"],
                   "settings": {"allowed_scopes": ["api.read"]}}),
        )
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("location"), "/admin/api/v1/clients/batch");
    let secret = created.json["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(created.json["client"]["settings"]["allowed_scopes"], json!(["api.read"]));
    // The secret works: the client gets a token with it.
    token_for(&api.app, "batch", &secret, "api.read").await;

    let shown = api.get("/admin/api/v1/clients/batch").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.json["grant_types"], json!(["client_credentials"]));
    let listed = api.get("/admin/api/v1/clients").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    for answer in [&shown, &listed] {
        assert!(!answer.text.contains(&secret), "the secret was shown again: {}", answer.text);
        assert!(!answer.text.contains("\"client_secret\"") && !answer.text.contains("digest"), "{}", answer.text);
    }

    let deleted = api.call(Method::DELETE, "/admin/api/v1/clients/batch", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    api.get("/admin/api/v1/clients/batch").await.assert_problem(StatusCode::NOT_FOUND);
    api.call(Method::DELETE, "/admin/api/v1/clients/batch", None).await.assert_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_client_list_is_filtered_sorted_and_paged() {
    let api = Api::admin().await;
    for id in ["shop-a", "shop-b", "shop-c"] {
        let body = json!({"id": id, "redirect_uris": [format!("https://{id}.example/cb")]});
        assert_eq!(api.post("/admin/api/v1/clients", body).await.status, StatusCode::CREATED);
    }

    let page = api.get("/admin/api/v1/clients?q=SHOP&sort=id&order=desc&limit=2&offset=1").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let ids: Vec<&str> = page.json["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["shop-b", "shop-a"]);
    assert_eq!(
        (page.json["total"].as_u64(), page.json["limit"].as_u64(), page.json["offset"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    let machines = api.get("/admin/api/v1/clients?grant_type=client_credentials").await;
    assert_eq!(machines.json["total"], 1, "only ops: {}", machines.text);
}

#[tokio::test]
async fn registering_a_taken_or_invalid_client_is_a_problem_and_writes_nothing() {
    let api = Api::admin().await;

    let taken = api.post("/admin/api/v1/clients", json!({"id": "ops", "grant_types": ["client_credentials"]})).await;
    let insecure =
        api.post("/admin/api/v1/clients", json!({"id": "web", "redirect_uris": ["http://web.example/cb"]})).await;
    let unknown_setting = api
        .post(
            "/admin/api/v1/clients",
            json!({"id": "web", "redirect_uris": ["https://web.example/cb"], "settings": {"colour": 1}}),
        )
        .await;

    taken.assert_problem(StatusCode::CONFLICT);
    insecure.assert_problem(StatusCode::BAD_REQUEST);
    unknown_setting.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(unknown_setting.json["errors"][0]["pointer"], "/settings", "{}", unknown_setting.text);
    api.get("/admin/api/v1/clients/web").await.assert_problem(StatusCode::NOT_FOUND);
}

// --- Users ---

#[tokio::test]
async fn an_admin_token_creates_users_that_start_each_way_and_no_password_comes_back() {
    let api = Api::admin().await;
    let user = |login: &str, start: &str| {
        json!({"login": login, "email": format!("{login}@example.org"),
        "given_name": "Anne", "family_name": "Martin", "start": start})
    };

    let mut with_password = user("anne", "password");
    with_password["password"] = json!("Correct-horse-battery-9");
    let ready = api.post("/admin/api/v1/users", with_password).await;
    let provisional = api.post("/admin/api/v1/users", user("paul", "provisional")).await;
    let link = api.post("/admin/api/v1/users", user("lea", "activation_link")).await;

    assert_eq!(ready.status, StatusCode::CREATED, "{}", ready.text);
    let id = ready.json["user"]["id"].as_str().unwrap();
    assert_eq!(ready.header("location"), format!("/admin/api/v1/users/{id}"));
    assert!(ready.json["sent"].is_null() && !ready.text.contains("Correct-horse"), "{}", ready.text);
    for answer in [&provisional, &link] {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert!(answer.json["sent"]["expires_at"].is_string(), "{}", answer.text);
        assert!(!answer.text.contains("password_hash") && !answer.text.contains("$argon2"), "{}", answer.text);
    }
    assert_eq!(provisional.json["user"]["must_change_password"], true);
}

#[tokio::test]
async fn creating_a_user_twice_or_with_a_misplaced_password_is_a_problem() {
    let api = Api::admin().await;
    let body = json!({"login": "anne", "email": "anne@example.org"});
    assert_eq!(api.post("/admin/api/v1/users", body.clone()).await.status, StatusCode::CREATED);

    api.post("/admin/api/v1/users", body).await.assert_problem(StatusCode::CONFLICT);
    let misplaced =
        api.post("/admin/api/v1/users", json!({"login": "paul", "email": "p@example.org", "password": "x"})).await;
    misplaced.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(misplaced.json["errors"][0]["pointer"], "/password");
    let missing =
        api.post("/admin/api/v1/users", json!({"login": "paul", "email": "p@example.org", "start": "password"})).await;
    missing.assert_problem(StatusCode::BAD_REQUEST);
    let bad_type = api
        .post("/admin/api/v1/users", json!({"login": "paul", "email": "p@example.org", "user_type": "martian"}))
        .await;
    bad_type.assert_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_admin_token_imports_a_csv_file_with_password_hashes_whole_or_not_at_all() {
    let api = Api::admin().await;
    let post = |content_type: &'static str, body: String| {
        let request = machine()
            .post(api.app.url("/admin/api/v1/users/import"))
            .bearer_auth(&api.token)
            .header("content-type", content_type)
            .body(body);
        read(request)
    };
    let header = "login,email,given_name,family_name,user_type,password_hash\n";

    let imported = post(
        "text/csv",
        format!("{header}anne,anne@example.org,Anne,M,,{{SSHA}}vNHgirGwlyx44L5R/kbn+JxMAi/lvHdu\npaul,paul@example.org,Paul,D,,\n"),
    )
    .await;
    let malformed = post("text/csv", format!("{header}lea,lea@example.org,Léa,B,,$2b$04$short\n")).await;
    let not_csv = post("application/xml", "<users/>".into()).await;
    let bad_realm = post("application/json", "{\"users\": 3}".into()).await;

    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let accounts = imported.json["accounts"].as_array().unwrap();
    assert_eq!((accounts[0]["start"].as_str(), accounts[0]["scheme"].as_str()), (Some("password_hash"), Some("ssha")));
    assert_eq!(accounts[1]["start"], "activation_link");
    assert!(!imported.text.contains("vNHgirGw"), "the hash came back: {}", imported.text);
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    assert!(api.app.services.store.user_by_login("lea").await.unwrap().is_none(), "nothing written");
    not_csv.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    bad_realm.assert_problem(StatusCode::BAD_REQUEST);
}

// --- Groups ---

#[tokio::test]
async fn an_admin_token_manages_groups_and_their_members() {
    let api = Api::admin().await;
    api.app.user("alice").await;

    let created = api.post("/admin/api/v1/groups", json!({"id": "staff", "name": "Personnel"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("location"), "/admin/api/v1/groups/staff");
    api.post("/admin/api/v1/groups", json!({"id": "staff"})).await.assert_problem(StatusCode::CONFLICT);

    let added = api.call(Method::PUT, "/admin/api/v1/groups/staff/members/alice", None).await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.text);
    let again = api.call(Method::PUT, "/admin/api/v1/groups/staff/members/alice", None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "adding twice is idempotent: {}", again.text);
    let shown = api.get("/admin/api/v1/groups/staff").await;
    assert_eq!(shown.json["members"], json!(["alice"]), "{}", shown.text);
    let listed = api.get("/admin/api/v1/groups?sort=members&order=desc").await;
    assert_eq!(listed.json["items"][0]["members"], 1, "{}", listed.text);

    let removed = api.call(Method::DELETE, "/admin/api/v1/groups/staff/members/alice", None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    api.call(Method::DELETE, "/admin/api/v1/groups/staff/members/alice", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    api.call(Method::PUT, "/admin/api/v1/groups/staff/members/nobody", None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
}

// --- User types and keys ---

#[tokio::test]
async fn the_user_types_are_listed_with_their_policies() {
    let api = Api::admin().await;

    let types = api.get("/admin/api/v1/user-types").await;

    assert_eq!(types.status, StatusCode::OK, "{}", types.text);
    let first = &types.json["items"][0];
    assert_eq!(first["id"], "usager", "{}", types.text);
    assert_eq!(first["default"], true);
    assert!(first["password_policy"]["min_length"].is_number(), "{}", types.text);
}

#[tokio::test]
async fn an_admin_token_lists_and_rotates_the_signing_keys() {
    let api = Api::admin().await;
    let before = api.get("/admin/api/v1/keys").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let next_es256 = before.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "next")
        .map(|k| k["kid"].clone())
        .unwrap();

    let too_soon = api.post("/admin/api/v1/keys/rotate", json!({"alg": "ES256"})).await;
    let rotated = api.post("/admin/api/v1/keys/rotate", json!({"alg": "ES256", "force": true})).await;

    too_soon.assert_problem(StatusCode::CONFLICT);
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(rotated.json["rotations"][0]["activated"], next_es256);
    api.post("/admin/api/v1/keys/rotate", json!({"alg": "HS256"})).await.assert_problem(StatusCode::BAD_REQUEST);
}

// --- Problems for bad input (RFC 9457) ---

#[tokio::test]
async fn bad_input_is_answered_with_a_problem_never_a_page_or_a_server_error() {
    let api = Api::admin().await;
    let raw = |method: Method, path: &str| machine().request(method, api.app.url(path)).bearer_auth(&api.token);

    let not_json =
        read(raw(Method::POST, "/admin/api/v1/groups").header("content-type", "application/json").body("{")).await;
    let wrong_type = read(raw(Method::POST, "/admin/api/v1/groups").form(&[("id", "staff")])).await;
    let wrong_shape = api.post("/admin/api/v1/groups", json!({"id": 7})).await;
    let unknown_member = api.post("/admin/api/v1/groups", json!({"id": "a", "colour": "blue"})).await;
    let bad_query = api.get("/admin/api/v1/clients?limit=ten").await;
    let out_of_range = api.get("/admin/api/v1/clients?limit=0").await;
    let unknown_sort = api.get("/admin/api/v1/clients?sort=secret").await;
    let no_route = api.get("/admin/api/v1/nothing").await;
    let wrong_method = api.call(Method::PATCH, "/admin/api/v1/keys", None).await;
    let too_large = read(
        raw(Method::POST, "/admin/api/v1/groups").header("content-type", "application/json").body("x".repeat(2 << 20)),
    )
    .await;

    not_json.assert_problem(StatusCode::BAD_REQUEST);
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    wrong_shape.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(wrong_shape.json["errors"][0]["pointer"], "/id", "{}", wrong_shape.text);
    unknown_member.assert_problem(StatusCode::BAD_REQUEST);
    for reply in [&bad_query, &out_of_range, &unknown_sort] {
        reply.assert_problem(StatusCode::BAD_REQUEST);
    }
    no_route.assert_problem(StatusCode::NOT_FOUND);
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.header("allow").contains("GET"), "{:?}", wrong_method.headers);
    too_large.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
}

// --- Bearer tokens (RFC 6750) ---

#[tokio::test]
async fn a_call_without_a_token_is_challenged_without_an_error_code() {
    // RFC 6750 §3.1: no credentials, no error code.
    let app = TestApp::spawn().await;

    let none = read(machine().get(app.url("/admin/api/v1/clients"))).await;
    let basic_auth =
        read(machine().get(app.url("/admin/api/v1/clients")).header("authorization", basic("a", "b"))).await;

    for reply in [&none, &basic_auth] {
        reply.assert_problem(StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), "Bearer realm=\"idp-admin\"");
    }
}

#[tokio::test]
async fn an_unknown_revoked_or_expired_token_is_invalid_token() {
    let api = Api::admin().await;
    let challenge = "Bearer realm=\"idp-admin\", error=\"invalid_token\"";
    let call = |token: String| {
        let app_url = api.app.url("/admin/api/v1/keys");
        async move { read(machine().get(app_url).bearer_auth(token)).await }
    };

    let unknown = call("not-a-token-of-ours".into()).await;
    unknown.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.header("www-authenticate"), challenge);

    // Revoked (RFC 7009) by its client.
    let secret = machine_client(&api.app, "robot", &["idp.admin"]).await;
    let revoked = token_for(&api.app, "robot", &secret, "idp.admin").await;
    assert_eq!(call(revoked.clone()).await.status, StatusCode::OK);
    let answer = machine()
        .post(api.app.url("/revoke"))
        .header("authorization", basic("robot", &secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let after_revocation = call(revoked).await;
    after_revocation.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(after_revocation.header("www-authenticate"), challenge);

    // Expired.
    api.app.clock.advance(24 * 3600);
    let expired = call(api.token.clone()).await;
    expired.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(expired.header("www-authenticate"), challenge);
}

#[tokio::test]
async fn a_jwt_access_token_is_accepted_like_an_opaque_one() {
    // RFC 9068 access tokens (`access_token_format=jwt`) are checked by signature and by record.
    let app = TestApp::spawn().await;
    let spec = ClientSpec {
        id: "jwt-ops".into(),
        grants: vec!["client_credentials".into()],
        settings: ClientSettings {
            allowed_scopes: Some(vec!["idp.admin".into()]),
            access_token_format: idp::domain::client::AccessTokenFormat::Jwt,
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    let secret = app.client(spec).await.1.unwrap();
    let token = token_for(&app, "jwt-ops", &secret, "idp.admin").await;
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    let reply = read(machine().get(app.url("/admin/api/v1/keys")).bearer_auth(&token)).await;
    let tampered = read(machine().get(app.url("/admin/api/v1/keys")).bearer_auth(format!("{token}x"))).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    tampered.assert_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deleted_clients_tokens_no_longer_count() {
    let api = Api::admin().await;
    let secret = machine_client(&api.app, "robot", &["idp.admin"]).await;
    let robot = token_for(&api.app, "robot", &secret, "idp.admin").await;
    let call = |token: String| {
        let url = api.app.url("/admin/api/v1/keys");
        async move { read(machine().get(url).bearer_auth(token)).await }
    };
    assert_eq!(call(robot.clone()).await.status, StatusCode::OK);

    let deleted = api.call(Method::DELETE, "/admin/api/v1/clients/robot", None).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    call(robot).await.assert_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_issued_to_a_person_is_refused_for_now() {
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let reply =
        read(machine().get(world.app.url("/admin/api/v1/clients")).bearer_auth(tokens.str("access_token"))).await;

    reply.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(reply.json["type"], "urn:idp:problem:person-token", "{}", reply.text);
}

#[tokio::test]
async fn the_api_takes_calls_from_other_origins_since_it_reads_no_cookie() {
    // The same-origin rule guards cookie-authenticated forms; a bearer token is never sent by a
    // browser on its own (web::CROSS_SITE_PREFIXES).
    let api = Api::admin().await;

    let reply = read(
        machine()
            .post(api.app.url("/admin/api/v1/groups"))
            .bearer_auth(&api.token)
            .header("origin", "https://console.example")
            .json(&json!({"id": "staff"})),
    )
    .await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}
