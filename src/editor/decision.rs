//! The EQ/FX decision form: which processor, which bands or parameters at which values, and
//! why. It records a structured decision, so a recall sheet can be printed later.

use liner_record::event::{Body, Decision, Setting};

/// Units offered for a value; the last entry means "no unit".
pub const UNITS: [&str; 9] = ["dB", "Hz", "kHz", "ms", "%", "Q", ":1", "st", ""];

#[derive(Debug, Clone, PartialEq)]
pub struct SettingRow {
    /// Band or parameter: "band 3 freq", "threshold".
    pub name: String,
    /// A number ("-3.5") or a word ("bell", "on").
    pub value: String,
    pub unit: &'static str,
}

impl Default for SettingRow {
    fn default() -> Self {
        SettingRow {
            name: String::new(),
            value: String::new(),
            unit: "dB",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecisionForm {
    /// EQ when true, FX otherwise.
    pub eq: bool,
    pub processor: String,
    pub rows: Vec<SettingRow>,
    pub reason: String,
}

impl Default for DecisionForm {
    fn default() -> Self {
        DecisionForm {
            eq: true,
            processor: String::new(),
            rows: vec![SettingRow::default()],
            reason: String::new(),
        }
    }
}

/// Reads a typed value: accepts a comma as the decimal mark and a typographic minus.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim().replace(',', ".").replace('−', "-");
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl DecisionForm {
    /// The decision as an event body, or what is missing, in words.
    ///
    /// # Errors
    /// Every problem of the form, in words, when it is not a decision yet.
    pub fn to_body(&self) -> Result<Body, Vec<String>> {
        let mut problems = Vec::new();
        let processor = self.processor.trim();
        if processor.is_empty() {
            problems.push("Name the processor (e.g. \"Pro-Q 3\" or \"1176\")".to_owned());
        }
        let mut settings = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let name = row.name.trim();
            let value = row.value.trim();
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if name.is_empty() {
                problems.push(format!(
                    "Line {}: which band or parameter is {value}?",
                    i + 1
                ));
                continue;
            }
            let unit = (!row.unit.is_empty()).then(|| row.unit.to_owned());
            let (value, text) = match parse_number(value) {
                Some(v) => (Some(v), None),
                None if value.is_empty() => (None, None),
                None => (None, Some(value.to_owned())),
            };
            settings.push(Setting {
                name: name.to_owned(),
                value,
                text,
                unit: if value.is_some() { unit } else { None },
            });
        }
        if settings.is_empty() {
            problems.push("Give at least one band or parameter and its value".to_owned());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let decision = Decision {
            processor: processor.to_owned(),
            settings,
            reason: self.reason.trim().to_owned(),
        };
        Ok(if self.eq {
            Body::EqDecision(decision)
        } else {
            Body::FxDecision(decision)
        })
    }

    /// Empties the form for the next decision, staying on EQ or FX.
    pub fn clear(&mut self) {
        *self = DecisionForm {
            eq: self.eq,
            ..DecisionForm::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_words_and_units_become_structured_settings() {
        let form = DecisionForm {
            eq: false,
            processor: " 1176 ".into(),
            rows: vec![
                SettingRow {
                    name: "ratio".into(),
                    value: "4".into(),
                    unit: ":1",
                },
                SettingRow {
                    name: "attack".into(),
                    value: "slow".into(),
                    unit: "ms",
                },
                SettingRow {
                    name: "gain".into(),
                    value: "−2,5".into(),
                    unit: "dB",
                },
                SettingRow::default(),
            ],
            reason: "tame the chorus peaks".into(),
        };
        let Ok(Body::FxDecision(d)) = form.to_body() else {
            panic!("{:?}", form.to_body())
        };
        assert_eq!(d.processor, "1176");
        assert_eq!(d.settings.len(), 3);
        assert_eq!(
            (d.settings[0].value, d.settings[0].unit.as_deref()),
            (Some(4.0), Some(":1"))
        );
        assert_eq!(
            (d.settings[1].text.as_deref(), d.settings[1].unit.as_deref()),
            (Some("slow"), None)
        );
        assert_eq!(d.settings[2].value, Some(-2.5));
    }

    #[test]
    fn missing_processor_and_settings_are_explained() {
        let errs = DecisionForm::default().to_body().unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        let form = DecisionForm {
            processor: "Pro-Q".into(),
            rows: vec![SettingRow {
                name: String::new(),
                value: "3".into(),
                unit: "dB",
            }],
            ..DecisionForm::default()
        };
        let errs = form.to_body().unwrap_err();
        assert!(errs[0].contains("Line 1"), "{errs:?}");
    }
}
