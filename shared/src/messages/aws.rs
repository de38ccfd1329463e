//! The delivery port on AWS: e-mail through Amazon SES (v2 `SendEmail`), text messages through Amazon
//! SNS (`Publish` to a phone number, as transactional SMS).

use async_trait::async_trait;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;

use super::{Accepted, Channel, Messenger, Outgoing, SendError};

/// SES for e-mail, SNS for text messages.
pub struct AwsMessenger {
    ses: aws_sdk_sesv2::Client,
    sns: aws_sdk_sns::Client,
    /// The verified sender, e.g. `Clinic messages <messages@example.org>`.
    from: String,
    /// An SES configuration set (bounce and complaint events), when one is configured.
    configuration_set: Option<String>,
}

impl AwsMessenger {
    pub fn new(config: &aws_config::SdkConfig, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self {
            ses: aws_sdk_sesv2::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            from: from.into(),
            configuration_set,
        }
    }

    async fn email(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let content = |text: &str| {
            Content::builder().data(text).charset("UTF-8").build().map_err(|e| SendError::Refused(e.to_string()))
        };
        let body = Message::builder()
            .subject(content(&message.subject)?)
            .body(Body::builder().text(content(&message.text)?).build())
            .build();
        let sent = self
            .ses
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(EmailContent::builder().simple(body).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| classify(e.code(), e.message(), e.as_service_error().is_some()))?;
        Ok(Accepted { provider_id: sent.message_id.unwrap_or_default() })
    }

    async fn text(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let sent = self
            .sns
            .publish()
            .phone_number(&message.to)
            .message(&message.text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(|e| {
                classify(
                    aws_sdk_sns::error::ProvideErrorMetadata::code(&e),
                    aws_sdk_sns::error::ProvideErrorMetadata::message(&e),
                    e.as_service_error().is_some(),
                )
            })?;
        Ok(Accepted { provider_id: sent.message_id.unwrap_or_default() })
    }
}

/// Codes of either service that mean "later", not "never".
const TRANSIENT: &[&str] = &[
    "TooManyRequestsException",
    "LimitExceededException",
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottling",
];

/// A service's answer with a code it gave is a refusal unless the code says to slow down or the service
/// failed; no answer at all (a timeout, a dropped connection) is worth another try.
fn classify(code: Option<&str>, message: Option<&str>, answered: bool) -> SendError {
    let detail = format!("{}: {}", code.unwrap_or("no code"), message.unwrap_or("no message"));
    match code {
        Some(code) if answered && !TRANSIENT.contains(&code) => SendError::Refused(detail),
        _ => SendError::Unavailable(detail),
    }
}

#[async_trait]
impl Messenger for AwsMessenger {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        match message.channel {
            Channel::Email => self.email(message).await,
            Channel::Sms => self.text(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_final_and_throttling_is_not() {
        assert!(matches!(classify(Some("MessageRejected"), None, true), SendError::Refused(_)));
        assert!(matches!(classify(Some("TooManyRequestsException"), None, true), SendError::Unavailable(_)));
        assert!(matches!(classify(None, None, false), SendError::Unavailable(_)));
    }
}
