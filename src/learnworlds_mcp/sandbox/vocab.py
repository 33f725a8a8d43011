"""Fixed vocabularies the data generator draws from (names, domains, catalogue, groups)."""

from __future__ import annotations

FIRST_NAMES = (
    "Maria", "Jane", "Tom", "Ana", "João", "Sofia", "Lucas", "Emma", "Noah", "Olivia",
    "Liam", "Mia", "Elena", "Marco", "Giulia", "Luca", "Chloé", "Hugo", "Léa", "Lukas",
    "Hannah", "Jonas", "Anna", "Piotr", "Zofia", "Katarzyna", "Dmitri", "Irina", "Yuki",
    "Haruto", "Mei", "Wei", "Priya", "Arjun", "Aisha", "Omar", "Fatima", "Youssef", "Amara",
    "Kwame", "Chidi", "Ngozi", "Carlos", "Lucía", "Diego", "Valentina", "Mateo", "Camila",
    "Sean", "Aoife", "Niamh", "Erik", "Ingrid", "Sven", "Freya", "Nikos", "Eleni", "Kostas",
    "Dimitra", "Ayşe", "Mehmet", "Zeynep", "David", "Sarah", "Michael", "Jessica", "Daniel",
    "Emily", "James", "Grace", "Ethan", "Chloe", "Ben", "Laura", "Sam", "Alex", "Kim",
)  # fmt: skip

LAST_NAMES = (
    "Kovacs", "Smith", "Lead", "Reis", "Silva", "Santos", "Costa", "Müller", "Schmidt",
    "Schneider", "Fischer", "Rossi", "Russo", "Bianchi", "Dubois", "Martin", "Bernard",
    "Nowak", "Kowalski", "Wiśniewska", "Ivanov", "Petrova", "Tanaka", "Suzuki", "Chen",
    "Wang", "Li", "Patel", "Sharma", "Khan", "Haddad", "Mensah", "Okafor", "Adeyemi",
    "García", "Fernández", "López", "Martínez", "Rodríguez", "O'Brien", "Murphy", "Kelly",
    "Johansson", "Andersen", "Nielsen", "Papadopoulos", "Georgiou", "Yılmaz", "Demir",
    "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Van der Berg", "De Vries", "Jansen", "Novák", "Horváth", "Nagy", "Popescu", "Ionescu",
)  # fmt: skip

COMPANY_DOMAINS = (
    ("acme.com", "Acme", "ACM"),
    ("globex.io", "Globex", "GLX"),
    ("initech.co", "Initech", "INI"),
    ("umbrella-corp.com", "Umbrella Corp", "UMB"),
    ("hooli.xyz", "Hooli", "HOO"),
    ("stark-industries.com", "Stark Industries", "STK"),
    ("wayne.enterprises", "Wayne Enterprises", "WAY"),
)
"""(email domain, company name, employee-code prefix)."""

PERSONAL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "proton.me",
    "icloud.com",
    "hotmail.co.uk",
    "web.de",
)

DEPARTMENTS = ("Sales", "Marketing", "Engineering", "Support", "Finance", "HR", "Operations")

TAGS = (
    "customer", "lead", "vip", "beta-tester", "partner", "cohort-2023", "cohort-2024",
    "cohort-2025", "sales", "marketing", "engineering", "support", "webinar-attendee",
    "newsletter", "enterprise", "smb", "trial", "churn-risk", "alumni", "scholarship",
)  # fmt: skip

CITIES = (
    ("Lisbon", "PT", "1000-001"),
    ("Berlin", "DE", "10115"),
    ("Athens", "GR", "105 57"),
    ("London", "GB", "EC1A 1BB"),
    ("Dublin", "IE", "D02 X285"),
    ("Madrid", "ES", "28001"),
    ("Milan", "IT", "20121"),
    ("Paris", "FR", "75001"),
    ("Warsaw", "PL", "00-001"),
    ("New York", "US", "10001"),
    ("Austin", "US", "73301"),
    ("Toronto", "CA", "M5H 2N2"),
    ("Lagos", "NG", "100001"),
    ("Tokyo", "JP", "100-0001"),
    ("Mumbai", "IN", "400001"),
)

UTM_SOURCES = (
    ("newsletter", "email", "spring-launch"),
    ("google", "cpc", "brand-search"),
    ("linkedin", "social", "b2b-q3"),
    ("facebook", "paid_social", "retargeting"),
    ("partner-blog", "referral", None),
)

NPS_COMMENTS = (
    "Great courses, very practical.",
    "The videos are too long.",
    "Loved the sales track!",
    "Would like more quizzes.",
    "Support answered quickly.",
    "Hard to find the certificates page.",
)

UNIT_TYPES = ("ivideo", "pdf", "ebook", "assessment", "audio", "embed", "scorm", "video")

# (slug, title, categories, access)
COURSES = (
    ("sales-101", "Sales 101", ("sales", "onboarding"), "paid"),
    ("negotiation-basics", "Negotiation Basics", ("sales",), "paid"),
    ("advanced-negotiation", "Advanced Negotiation", ("sales",), "paid"),
    ("cold-outreach-playbook", "Cold Outreach Playbook", ("sales", "marketing"), "paid"),
    ("marketing-fundamentals", "Marketing Fundamentals", ("marketing",), "free"),
    ("seo-essentials", "SEO Essentials", ("marketing",), "paid"),
    ("content-strategy", "Content Strategy", ("marketing",), "paid"),
    ("leadership-essentials", "Leadership Essentials", ("leadership",), "paid"),
    ("managing-remote-teams", "Managing Remote Teams", ("leadership",), "paid"),
    ("feedback-that-works", "Feedback That Works", ("leadership", "onboarding"), "free"),
    ("python-for-analysts", "Python for Analysts", ("data", "engineering"), "paid"),
    ("sql-from-zero", "SQL from Zero", ("data",), "free"),
    ("data-visualisation", "Data Visualisation", ("data",), "paid"),
    ("customer-success-101", "Customer Success 101", ("support", "onboarding"), "free"),
    ("handling-difficult-calls", "Handling Difficult Calls", ("support",), "paid"),
    ("gdpr-compliance", "GDPR Compliance", ("compliance",), "private"),
    ("anti-bribery-training", "Anti-Bribery Training", ("compliance",), "private"),
    ("security-awareness", "Security Awareness", ("compliance", "onboarding"), "free"),
    ("welcome-to-acme", "Welcome to Acme", ("onboarding",), "private"),
    ("time-management", "Time Management", ("productivity",), "free"),
    ("public-speaking", "Public Speaking", ("communication",), "paid"),
    ("business-writing", "Business Writing", ("communication",), "paid"),
    ("ai-for-sales-teams", "AI for Sales Teams", ("sales", "data"), "coming_soon"),
    ("finance-for-non-finance", "Finance for Non-Finance Managers", ("finance",), "draft"),
    ("excel-masterclass", "Excel Masterclass", ("data", "productivity"), "enrollment_closed"),
    ("product-management-intro", "Intro to Product Management", ("product",), "draft"),
)

# (slug, title, course slugs)
BUNDLES = (
    ("sales-mastery-bundle", "Sales Mastery", ("sales-101", "negotiation-basics", "advanced-negotiation")),
    ("leadership-track", "Leadership Track", ("leadership-essentials", "managing-remote-teams", "feedback-that-works")),
    ("data-skills-bundle", "Data Skills", ("python-for-analysts", "sql-from-zero", "data-visualisation")),
)  # fmt: skip

# (slug, title, interval, interval_type, price)
PLANS = (
    ("all-access-monthly", "All Access (monthly)", 1, "month", 29),
    ("all-access-yearly", "All Access (yearly)", 1, "year", 290),
)

# (title, description, tags)
GROUPS = (
    ("Enterprise Cohort Q3", "Enterprise customers onboarded in Q3", ("enterprise", "cohort-q3")),
    ("Acme – Sales onboarding", "Q3 cohort for the Acme sales team", ("acme", "sales")),
    ("Acme – Support team", "Support agents at Acme", ("acme", "support")),
    ("Globex Leadership Program", "Managers in the Globex leadership track", ("globex",)),
    ("Initech Data Academy", "Analysts learning Python and SQL", ("initech", "data")),
    ("Hooli New Hires", "Everyone who joined Hooli this year", ("hooli", "onboarding")),
    ("Umbrella Compliance 2025", "Mandatory compliance training", ("umbrella", "compliance")),
    ("Partner Resellers EMEA", "Reseller partners in Europe and Africa", ("partner", "emea")),
    ("Partner Resellers APAC", "Reseller partners in Asia-Pacific", ("partner", "apac")),
    ("Scholarship Recipients", "Learners on a scholarship", ("scholarship",)),
    ("Beta Testers", "Early access to new courses", ("beta-tester",)),
    ("Stark Engineering Guild", "Engineers sharing data skills", ("stark",)),
    ("Wayne Executive Briefing", "Executives, small and exclusive", ("wayne", "vip")),
    ("Spring Webinar Attendees", "Signed up during the spring webinar", ("webinar-attendee",)),
    ("Archived – 2023 Pilot", "Pilot group, kept for reporting", ("pilot-2023",)),
)
