//! The records contract on the DynamoDB adapter, over the wire against moto.

vellum::records_contract!(vellum_tests::moto_records());
