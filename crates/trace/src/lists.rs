//! How a list of words is held in one CSV field: a JSON array (a command line, whose words
//! may hold any character) or words separated by `;` (model names, which never hold one).

/// A list as a JSON array of strings; an empty field (a command line not read) is an empty
/// list. A field that is neither is an error that the reader reports with its line, never an
/// empty list taken for the real one.
pub mod json {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the list as a JSON array.
    pub fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    /// Reads a JSON array of strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&text)
            .map_err(|e| serde::de::Error::custom(format!("not a JSON list of strings: {e}")))
    }
}

/// A list as words separated by `;` (empty for none).
pub mod semicolons {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the words joined by `;`.
    pub fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(";"))
    }

    /// Reads the words, leaving out empty ones.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(d)?;
        Ok(text
            .split(';')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect())
    }
}
