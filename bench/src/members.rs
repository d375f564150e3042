//! `muster-members`: writes a synthetic member file (CSV or XLSX) for import benchmarks.
//! Usage: muster-members ROWS COMMUNITIES OUT.(csv|xlsx)

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4,
        "usage: muster-members ROWS COMMUNITIES OUT.csv|OUT.xlsx"
    );
    let (rows, communities): (usize, usize) = (args[1].parse()?, args[2].parse()?);
    let out = &args[3];
    let roles = ["member", "contributor", "administrator"];
    let row = |i: usize| {
        vec![
            format!("M{i:07}"),
            format!("member{i}@bench.test"),
            format!("First{i}"),
            format!("Last{}", i % 977),
            format!("Community {}", i % communities),
            roles[i % 3].to_owned(),
        ]
    };
    let header: Vec<String> = [
        "matricule",
        "email",
        "first_name",
        "last_name",
        "community",
        "role",
    ]
    .map(String::from)
    .to_vec();
    if out.ends_with(".xlsx") {
        let mut all = vec![header];
        all.extend((0..rows).map(row));
        std::fs::write(out, muster::import::write_xlsx(&all))?;
    } else {
        let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
        writeln!(f, "{}", header.join(","))?;
        for i in 0..rows {
            writeln!(f, "{}", row(i).join(","))?;
        }
    }
    Ok(())
}
