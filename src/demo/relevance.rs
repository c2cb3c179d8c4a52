//! The relevance sets: queries with the products they must find, over the
//! yard's base catalogue and over the hardware catalogue
//! ([`super::hardware`]). The API tests hold Quarry to them; the search
//! benchmark writes them out for the comparison with Typesense.

/// The first set: queries written the way customers type them over the
/// yard's base catalogue ([`super::BASE`]), each with the product that must
/// come up in the top three: (query, expected SKU).
pub const YARD: &[(&str, &str)] = &[
    ("washd sand 0-4", "SAND-04"),
    ("washed sand", "SAND-04"),
    ("washed s", "SAND-04"),
    ("sharp sand", "SAND-SHARP"),
    ("building sand", "SAND-BLD"),
    ("plastering sand", "SAND-PLST"),
    ("silica", "SAND-SIL"),
    ("kiln dried sand", "SAND-KD"),
    ("gravel 4-8", "GRAV-0408"),
    ("gravel 8-16mm", "GRAV-0816"),
    ("gravel 16/32", "GRAV-1632"),
    ("pea gravel", "GRAV-PEA"),
    ("pea grvel", "GRAV-PEA"),
    ("crushed granite", "GRAN-1020"),
    ("granit 10-20", "GRAN-1020"),
    ("limestone chippings", "LIME-20"),
    ("ballast", "BALL-020"),
    ("type 1 mot", "MOT-T1"),
    ("mot sub base", "MOT-T1"),
    ("topsoil", "SOIL-TOP"),
    ("cem 42.5", "CEM-425"),
    ("portland cement", "CEM-425"),
    ("cement 32.5", "CEM-325"),
    ("rapid set cement", "CEM-525"),
    ("white cement", "CEM-WHT"),
    ("cemnt 52.5", "CEM-525"),
    ("mortar m4", "MORT-M4"),
    ("masonry mortar", "MORT-M10"),
    ("hydraulic lime", "LIME-NHL35"),
    ("nhl 3.5", "LIME-NHL35"),
    ("tile adhesive", "ADH-C2TE"),
    ("self levelling screed", "SCREED-SL"),
    ("rebar 12mm", "RB-1206-B"),
    ("rebar 8mm", "RB-0806-B"),
    ("rebar 16 mm", "RB-1606-B"),
    ("reinforcing bar 20mm", "RB-2012-B"),
    ("0412", "RB-0412-B"),
    ("RB-2512", "RB-2512-B"),
    ("mesh a142", "MESH-A142"),
    ("mesh a252", "MESH-A252"),
    ("tying wire", "WIRE-TIE"),
    ("steel angle", "ANG-40404"),
    ("flat bar 50", "FLAT-5005"),
    ("c24 47x100", "TIM-47100"),
    ("timber 47 x 150", "TIM-47150"),
    ("joist 47x200", "TIM-47200"),
    ("cls stud", "TIM-3889"),
    ("roofing batten", "BAT-2538"),
    ("decking", "DECK-28145"),
    ("osb 18mm", "OSB-18"),
    ("oriented strand board", "OSB-18"),
    ("plywood 12mm", "PLY-12"),
    ("concrete block 7n", "BLK-7N100"),
    ("aircrete block", "BLK-AER100"),
    ("engineering brick", "BRK-ENGB"),
    ("facing brick", "BRK-FRM"),
    ("paving slab 600", "SLAB-600"),
    ("kerb", "KERB-HB2"),
    ("plasticiser", "CHEM-PLAST"),
    ("pva", "CHEM-PVA"),
    ("bitumen", "CHEM-BIT"),
    ("hydrochloric acid", "CHEM-HCL30"),
    ("caustic soda", "CHEM-NAOH"),
    ("tanking slurry", "CHEM-SLURRY"),
    ("pir 100mm", "INS-PIR100"),
    ("pir insulation 50", "INS-PIR50"),
    ("insulaton board 150", "INS-PIR150"),
    ("mineral wool", "INS-MW100"),
    ("eps floor", "INS-EPS100"),
    ("shovel", "TOOL-SHV"),
    ("wheelbarow", "TOOL-WB85"),
    ("spirit level", "TOOL-LVL12"),
    ("brick trowel", "TOOL-TRW11"),
    ("concrete mixer", "TOOL-MIX140"),
    ("safety helmet", "PPE-HAT"),
    ("gloves", "PPE-GLV"),
    ("drain pipe 110", "DRN-110"),
    ("manhole cover", "DRN-MH600"),
    ("gully", "DRN-GULLY"),
];

/// A query of a relevance set, with the products it should find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelevanceQuery {
    /// What kind of query it is (`exact`, `typo`, `sizes`…).
    pub kind: &'static str,
    pub text: String,
    /// Any of these in the top three is a success.
    pub expected: Vec<String>,
}

/// The first set, each query with its kind: `code` (a SKU or part of one),
/// `sizes` (words with a number), `one word` or `words`.
pub fn yard_set() -> Vec<RelevanceQuery> {
    YARD.iter()
        .map(|(text, sku)| {
            let kind = if !text.contains(' ') && text.chars().any(|c| c.is_ascii_digit()) {
                "code"
            } else if text.chars().any(|c| c.is_ascii_digit()) {
                "sizes"
            } else if text.contains(' ') {
                "words"
            } else {
                "one word"
            };
            RelevanceQuery {
                kind,
                text: (*text).to_owned(),
                expected: vec![(*sku).to_owned()],
            }
        })
        .collect()
}
