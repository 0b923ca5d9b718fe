//! How a recognition ended, as `recognitions.status` stores it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecognitionStatus {
    /// Fields read; a later request with the same photos reuses them.
    Succeeded,
    /// The model failed; the photos are kept and the recognition can be retried.
    Failed,
}

impl RecognitionStatus {
    /// The stored value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_values_stay() {
        assert_eq!(RecognitionStatus::Succeeded.as_str(), "succeeded");
        assert_eq!(RecognitionStatus::Failed.as_str(), "failed");
        assert_eq!(
            RecognitionStatus::parse("failed"),
            Some(RecognitionStatus::Failed)
        );
        assert_eq!(RecognitionStatus::parse("pending"), None);
    }
}
