//! The CSV file of `idp user import --file` (and of the API's `text/csv` import): a header,
//! then one user per line. Fields may be double-quoted (`""` inside quotes is one quote);
//! blank lines are skipped; errors name the line.

use super::ImportRow;
use crate::admin::{AdminError, UserSpec, split_identifier};

/// The columns of `idp user import`, in this order, on a header line.
pub const IMPORT_COLUMNS: [&str; 5] = ["login", "email", "given_name", "family_name", "user_type"];
/// Columns that may follow `IMPORT_COLUMNS`, in any order: `birth_date` (YYYY-MM-DD) and
/// `identifiers` (`kind=value;kind=value`) (issue #5); `password_hash`, an existing hash in one
/// of the formats of `account::legacy_hash` (issue #12). An empty cell sets nothing (no hash:
/// an activation link).
pub const IMPORT_OPTIONAL_COLUMNS: [&str; 3] = ["birth_date", "identifiers", "password_hash"];

/// Rows of the import file, labelled with their line numbers; the header must name
/// `IMPORT_COLUMNS`.
pub(super) fn parse(csv: &str) -> Result<Vec<ImportRow>, AdminError> {
    let mut lines = csv.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines.next().map(|(_, l)| split_csv_line(l)).transpose().map_err(AdminError::Invalid)?;
    let header: Vec<String> = header.unwrap_or_default().iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let extra = header.get(IMPORT_COLUMNS.len()..).unwrap_or_default();
    let extra_ok = extra.iter().all(|c| IMPORT_OPTIONAL_COLUMNS.contains(&c.as_str()))
        && extra.iter().enumerate().all(|(i, c)| !extra[..i].contains(c));
    if header.get(..IMPORT_COLUMNS.len()) != Some(&IMPORT_COLUMNS.map(str::to_owned)[..]) || !extra_ok {
        return Err(AdminError::Invalid(format!(
            "the first line must be {}, optionally followed by {}",
            IMPORT_COLUMNS.join(","),
            IMPORT_OPTIONAL_COLUMNS.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        let n = index + 1;
        let fields = split_csv_line(line).map_err(|e| AdminError::Invalid(format!("line {n}: {e}")))?;
        if fields.len() != header.len() {
            return Err(AdminError::Invalid(format!("line {n}: expected {} fields", header.len())));
        }
        let mut fields = fields.into_iter();
        let mut next = || fields.next().unwrap_or_default();
        let spec = UserSpec {
            login: next(),
            email: next(),
            given_name: next(),
            family_name: next(),
            user_type: next(),
            ..UserSpec::default()
        };
        let mut row = ImportRow { label: format!("line {n}"), spec, ..ImportRow::default() };
        for column in extra {
            let value = next();
            if value.is_empty() {
                continue;
            }
            match column.as_str() {
                "birth_date" => row.spec.birth_date = Some(value),
                "password_hash" => row.password_hash = Some(value),
                _ => {
                    row.spec.identifiers = value
                        .split(';')
                        .filter(|pair| !pair.trim().is_empty())
                        .map(split_identifier)
                        .collect::<Result<_, _>>()
                        .map_err(|e| AdminError::Invalid(format!("line {n}: {e}")))?;
                }
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(AdminError::Invalid("the file has no user".into()));
    }
    Ok(rows)
}

fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field.trim().to_owned());
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_import(csv: &str) -> Result<Vec<(usize, UserSpec)>, AdminError> {
        Ok(parse(csv)?.into_iter().map(|r| (r.label.trim_start_matches("line ").parse().unwrap(), r.spec)).collect())
    }

    #[test]
    fn import_files_are_parsed_with_quotes_and_line_numbers() {
        let csv = "login,email,given_name,family_name,user_type\n\n\
                   a.b,a@x.fr,\"Anne, Marie\",\"D\"\"Arc\",elu\r\nc.d,c@x.fr,Claude,Durand,\n";
        let rows = parse_import(csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 3, "line numbers count blank lines");
        assert_eq!((rows[0].1.given_name.as_str(), rows[0].1.family_name.as_str()), ("Anne, Marie", "D\"Arc"));
        assert_eq!(rows[1].1.user_type, "");
        assert!(parse_import("login,email\na,b\n").is_err(), "wrong header");
        assert!(parse_import("login,email,given_name,family_name,user_type\n").is_err(), "no user");
        assert!(parse_import("login,email,given_name,family_name,user_type\na,b,c\n").is_err(), "short row");
        assert!(parse_import("login,email,given_name,family_name,user_type\na,b,\"c,d,e\n").is_err(), "open quote");
    }

    #[test]
    fn import_files_may_add_birth_dates_and_identifiers() {
        let csv = "login,email,given_name,family_name,user_type,identifiers,birth_date\n\
                   a.b,a@x.fr,Anne,B,,student_number=22001234; ine = 0A1B2C3D4E5 ,2001-02-03\n\
                   c.d,c@x.fr,Claude,D,,,\n";
        let rows = parse_import(csv).unwrap();
        assert_eq!(rows[0].1.birth_date.as_deref(), Some("2001-02-03"));
        assert_eq!(
            rows[0].1.identifiers,
            vec![("student_number".into(), "22001234".into()), ("ine".into(), "0A1B2C3D4E5".into())]
        );
        assert_eq!((rows[1].1.birth_date.clone(), rows[1].1.identifiers.len()), (None, 0), "empty cells set nothing");
        for (header, row) in [
            ("login,email,given_name,family_name,user_type,phone", "a,a@x.fr,A,B,,1"),
            (
                "login,email,given_name,family_name,user_type,birth_date,birth_date",
                "a,a@x.fr,A,B,,2001-01-01,2001-01-01",
            ),
            ("login,email,given_name,family_name,user_type,identifiers", "a,a@x.fr,A,B,,student_number"),
            ("login,email,given_name,family_name,user_type,birth_date", "a,a@x.fr,A,B,"),
        ] {
            assert!(parse_import(&format!("{header}\n{row}\n")).is_err(), "{header} / {row}");
        }
    }

    #[test]
    fn an_import_file_may_carry_password_hashes_and_an_empty_cell_means_an_activation_link() {
        let csv = "login,email,given_name,family_name,user_type,password_hash\n\
                   a.b,a@x.fr,Anne,B,,$2b$04$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC\n\
                   c.d,c@x.fr,Claude,D,,\n";
        let rows = parse(csv).unwrap();
        assert_eq!(
            rows[0].password_hash.as_deref(),
            Some("$2b$04$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC")
        );
        assert_eq!(rows[1].password_hash, None);
        assert_eq!(rows[1].label, "line 3");
    }
}
