//! `rxon schema validate`: checks JSON data (stdin) against a JSON Schema file and prints the
//! reference's message.
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use rxon::ProtocolVersion;

/// Arguments of `rxon schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SchemaCommand {
    /// Validate the JSON document on stdin; prints `ok` (exit 0) or the message (exit 1).
    Validate {
        /// The JSON Schema file.
        #[arg(long)]
        schema: PathBuf,
        /// Whose messages: `1.0b17` (default) or `1.0b9`.
        #[arg(long, default_value = "1.0b17")]
        version: ProtocolVersion,
    },
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    match &args.command {
        SchemaCommand::Validate { schema, version } => {
            let text = std::fs::read(schema)
                .map_err(|e| format!("cannot read {}: {e}", schema.display()))?;
            let schema_value =
                rxon::json::from_slice(&text).map_err(|e| format!("{}: {e}", schema.display()))?;
            let schema_map = match &schema_value {
                rxon::Value::Object(m) => Some(m),
                rxon::Value::Null => None,
                _ => {
                    return Err(
                        format!("{}: a schema must be a JSON object", schema.display()).into(),
                    );
                }
            };
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input)?;
            let data = rxon::json::from_slice(&input).map_err(|e| format!("stdin: {e}"))?;
            match rxon::schema::validate_data(&data, schema_map, *version) {
                Ok(()) => {
                    println!("ok");
                    Ok(ExitCode::SUCCESS)
                }
                Err(message) => {
                    println!("{message}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
