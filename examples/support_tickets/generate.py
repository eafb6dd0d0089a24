"""Generate the bundled synthetic *support tickets* example dataset.

This script writes two files (by default next to itself):

``tickets.csv``
    One row per customer-support message, columns ``ticket_id,text,label,gender,age_band``.
    ``label`` is ``urgent`` or ``routine`` and is learnable from the text (urgency cues such
    as outages, lockouts, double charges, fraud, data loss, security incidents and same-day
    deadlines versus feature requests, how-to questions, invoice copies, plan changes,
    address updates and thanks), with some ambiguous messages and ~7% label noise so that a
    good text classifier lands well below 100% accuracy.  ``gender`` (female / male /
    non-binary, ~3% left empty as missing) and ``age_band`` (18-29 / 30-44 / 45-59 / 60+)
    are *sensitive features* for fairness checks: they are drawn independently of the text
    and of the label, and a model is never meant to see them.

``pii_spans.jsonl``
    One JSON object per planted PII value: ``record`` (0-based row index in tickets.csv),
    ``ticket_id``, ``start``/``end`` (Python character offsets into ``text``) and
    ``entity_type`` (PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN,
    STREET_ADDRESS, LOCATION, IBAN_CODE, IP_ADDRESS).  The values themselves are *not*
    repeated in this file; it is ground truth for measuring a PII scanner's recall.

Roughly a third of the messages carry planted PII (sometimes two or three values).  PII
presence is drawn independently of the label.  Phone numbers use real area codes and
valid exchanges, card numbers pass the Luhn check, SSNs follow the SSA allocation rules and
IBANs carry correct mod-97 check digits, so that validating scanners accept them.

Everything here is synthetic: names, addresses, numbers and accounts are assembled at
random from generic word lists and do not describe real people or real accounts.

The output is deterministic for a given ``--seed`` (and ``--n``): running the script twice
produces byte-identical files.  Only the Python standard library is used.

Usage::

    python examples/support_tickets/generate.py [--n 3000] [--seed 13] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

FIELDNAMES = ["ticket_id", "text", "label", "gender", "age_band"]
URGENT, ROUTINE = "urgent", "routine"

# ----------------------------------------------------------------------------------------
# Message content
# ----------------------------------------------------------------------------------------

SLOTS: dict[str, list[str]] = {
    "product": [
        "the mobile app", "the web dashboard", "online banking", "the customer portal",
        "the admin console", "the billing page", "my home internet", "the VPN client",
        "the API", "the desktop app", "the payments page", "the reporting module",
        "the shared workspace", "the team calendar", "the file sync client",
        "the online store", "the voicemail service", "the invoicing tool",
    ],
    "service": [
        "internet", "phone service", "mobile data", "email service", "cloud storage",
        "the payroll integration", "card payments", "checkout", "the sync service",
        "Wi-Fi", "the landline", "video calls",
    ],
    "since": [
        "since this morning", "for the last two hours", "since about 9am", "since last night",
        "for over an hour", "since the update yesterday", "all day today", "since 6 am",
        "for the past 45 minutes", "since lunchtime",
    ],
    "amount": [
        "$49.99", "$129.00", "$1,240.50", "$18.75", "$310.00", "$89.95", "$2,000",
        "$64.20", "$499.00", "$12.99", "$735.40", "$250",
    ],
    "team": [
        "sales", "finance", "support", "engineering", "operations", "marketing", "legal",
        "HR", "design", "customer success", "accounting", "IT",
    ],
    "deadline": [
        "by 5pm today", "before end of day", "within the hour", "before our board meeting this afternoon",
        "by noon today", "tonight", "before the market closes today", "in the next two hours",
    ],
    "plan": [
        "Basic", "Standard", "Premium", "Business", "Family", "Pro", "Enterprise", "Starter",
        "Unlimited", "Plus",
    ],
    "device": [
        "iPhone", "Android phone", "laptop", "Windows PC", "MacBook", "tablet", "router",
        "modem", "Chromebook", "smart TV",
    ],
    "feature": [
        "dark mode", "CSV export", "an authenticator app option for sign-in", "bulk editing",
        "calendar integration", "custom reports", "a Spanish language option",
        "scheduled payments", "shared folders", "keyboard shortcuts", "an API for invoices",
        "recurring transfers", "tags on transactions", "a weekly summary email",
        "saved search filters", "a printable statement view", "multiple billing contacts",
        "offline mode", "a larger font setting",
    ],
    "count": [
        "dozens of", "all of our", "about 40", "hundreds of", "every one of our", "most of our",
        "around 200",
    ],
    "month": [
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ],
    "years": ["two", "three", "five", "ten", "over six", "almost four", "nearly eight"],
    "size": ["12", "25", "40", "60", "150", "300", "a dozen", "fifty"],
}

URGENT_TEMPLATES = [
    "{product} has been completely down {since} and none of my team can work.",
    "I cannot log in to {product}, it keeps saying my password is wrong even after a reset.",
    "I was charged twice for my {plan} subscription this month, {amount} each time.",
    "There are transactions on my account that I did not make, I think this is fraud.",
    "My account has been locked and I have a payroll deadline {deadline}.",
    "We just lost all of the data in {product}, the projects from the last month are gone.",
    "I think our account has been hacked, someone changed the password and the recovery email.",
    "Our whole office has had no {service} {since}, this is a full outage.",
    "I need this fixed {deadline} or we miss a legal filing deadline.",
    "Someone withdrew {amount} from my account without my permission.",
    "{product} keeps crashing and I have a client presentation {deadline}.",
    "Security alert: we see logins to our admin account from a country we have never been to.",
    "My card was declined everywhere today even though there is money in the account.",
    "Every payment through {product} is failing with an error 500, customers cannot check out.",
    "The latest update wiped my saved files and I cannot find any backup.",
    "I was billed {amount} for a plan I cancelled in {month}, and it overdrew my account.",
    "Our {service} went down in the middle of a live event, we need someone right now.",
    "I'm locked out after too many attempts and I cannot access my funds.",
    "We received a phishing email that looks like it came from you and several staff clicked the link.",
    "{count} customer records disappeared from the database overnight.",
    "The verification code never arrives so I am completely unable to sign in.",
    "My phone line has been dead {since} and I rely on it for medical alerts.",
    "A payment of {amount} went to the wrong recipient and I need it stopped immediately.",
    "Our API keys were exposed publicly, please help us revoke them immediately.",
    "Service is down for {count} users on our {team} team and it is costing us money every minute.",
    "I was double charged {amount} on invoice {invoice} and my rent is due.",
    "The app shows my balance as zero, all of my savings seem to be gone.",
    "We cannot open any files in {product}, it says the workspace was deleted.",
    "Emergency: {product} is returning errors for every request {since}.",
    "My account was suspended without warning and my business depends on it.",
    "I reported a lost card yesterday but it is still being used, please block it now.",
    "There has been a data breach, a stranger emailed us our own internal documents.",
    "The password reset link is broken and I have a deadline {deadline}.",
    "The migration corrupted our database and the nightly backup failed too.",
    "Nobody on our {team} team can log in {since} and we have payroll to run.",
    "The direct deposit for {count} employees failed and they expect to be paid today.",
    "My {device} was stolen and my account is still signed in on it, please lock it down.",
    "Unauthorized charges of {amount} keep appearing on my statement.",
    "Our checkout has been broken {since} and we are losing orders.",
    "Critical: the sync service deleted files on all of our laptops.",
    "I got a notice that my password was changed but I did not change it.",
    "The outage is still ongoing and your status page says everything is fine.",
    "All mail sent from our domain is bouncing {since}, clients cannot reach us.",
    "I need the hold on my account lifted {deadline}, I cannot pay my bills.",
    "The wire transfer of {amount} left my account but never arrived, and the closing is {deadline}.",
    "Our {service} is completely dead {since} and we run a pharmacy.",
    "Somebody is using my login right now, I can see sessions I did not start.",
    "Half our customer database was overwritten by the import, this is a disaster.",
]

ROUTINE_TEMPLATES = [
    "Could you add {feature} to {product}? It would really help our {team} team.",
    "How do I change my plan from {plan} to {plan2}?",
    "Can you send me a copy of invoice {invoice} for our records?",
    "I would like to update the mailing address on my account.",
    "Thanks for the quick help last week, everything works great now.",
    "How do I export my data to a spreadsheet?",
    "Is there a way to turn on {feature}?",
    "I'd like to know when my contract renews.",
    "Could you explain the difference between the {plan} and {plan2} plans?",
    "How do I add a new user to our {team} team account?",
    "Just a suggestion: {feature} would make {product} much nicer to use.",
    "Where can I download last year's statements?",
    "Please change the billing contact on our account when you get a chance.",
    "Do you offer a discount for non-profit organizations?",
    "What are your support hours over the holidays?",
    "I want to switch to paperless billing.",
    "Can I get a receipt for my payment in {month}?",
    "Is it possible to rename our workspace?",
    "How do I set up automatic payments?",
    "I'd like to upgrade to the {plan} plan starting next month.",
    "Could you tell me how to change my notification settings?",
    "Is there a version of the app for my {device}?",
    "Just wanted to say your support agent was very helpful, thank you.",
    "Can you point me to the documentation for the reporting feature?",
    "Our {team} team would love {feature} in a future release.",
    "How do I change the language of the interface?",
    "When will {feature} be available?",
    "I'd like to cancel an add-on I no longer use at the end of this billing cycle.",
    "Could you update the company name that appears on our invoices?",
    "What is the storage limit on the {plan} plan?",
    "How can I download a copy of my data for my own records?",
    "Can I move my renewal date to the first of the month?",
    "Is there a way to merge two accounts I accidentally created?",
    "Please add my colleague as a secondary contact on the account.",
    "I have a general question about how interest is calculated on savings.",
    "How do I change my profile picture?",
    "Do you have a referral program?",
    "I'm travelling abroad in {month}, do I need to let you know in advance?",
    "Could you resend the welcome email with the setup guide?",
    "What is the best way to give feedback on the new design?",
    "I would like a copy of my contract for our files.",
    "Can we schedule a demo of {feature} for our {team} team?",
    "Can you confirm whether my {device} is compatible with {product}?",
    "How do I change my plan to include international calling?",
    "Could I get an itemized copy of invoice {invoice}?",
    "I'd like to downgrade to the {plan} plan at my next renewal.",
    "Is it possible to pay annually instead of monthly?",
    "How do I update my address for the paper statements?",
]

AMBIGUOUS_TEMPLATES = [
    "{product} seems slower than usual today, is something going on?",
    "I noticed a charge of {amount} that I don't recognize, can you tell me what it is?",
    "My bill this month is higher than I expected.",
    "A few of my files are not showing up in {product}, maybe it is still syncing.",
    "I got an email saying my account needs verification, is that really from you?",
    "The app logged me out a couple of times today.",
    "I'm having some trouble with {product} but I'm not sure if it's on my end.",
    "Can someone check my account? Something looks a bit off.",
    "My last payment didn't seem to go through, could you check?",
    "My {device} keeps disconnecting from time to time.",
    "I haven't received my statement for {month} yet.",
    "The password reset email took a long time to arrive.",
    "Is there a known issue with {product} right now?",
    "Some of our reports show numbers that don't match our records.",
    "I need help with my account as soon as you can.",
    "The {service} drops out every now and then in the evenings.",
    "I was told my issue would be resolved by today but I haven't heard back.",
    "My order {order} still shows as pending.",
    "We have a busy week coming up and want to be sure our plan covers it.",
    "I think I may have been billed incorrectly.",
    "The login page looked different today and I wasn't sure it was safe.",
    "One of the transfers from {month} is still missing from my history.",
]

OPENERS = [
    "Hi,", "Hello,", "Hi there,", "Hello support team,", "Good morning,", "Good afternoon,",
    "Hey,", "Dear support,", "To whom it may concern,", "Hi team,", "Hello again,",
    "Hi support,", "Good evening,",
]

CLOSERS = [
    "Thanks.", "Thank you.", "Thanks in advance.", "Regards.", "Best regards.", "Cheers.",
    "Appreciate your help.", "Thank you for your time.", "Many thanks.", "Kind regards.",
]

FILLERS = [
    "I've been a customer for {years} years.",
    "I'm on the {plan} plan.",
    "I already tried restarting my {device}.",
    "This is for our {team} team account.",
    "I'm writing from my {device}.",
    "My account was opened back in {month}.",
    "I checked the help center but couldn't find an answer.",
    "A colleague suggested I write to you.",
    "I use {product} every day for work.",
    "Our company has about {size} employees.",
    "I logged in from my {device} to double-check before writing.",
    "We signed up for the {plan} plan in {month}.",
    "I also looked through the FAQ first.",
]

URGENT_BOOSTERS = [
    "Please call me back as soon as possible.", "This is extremely urgent.",
    "We need an answer right away.", "This needs immediate attention.",
    "Please escalate this now.", "I need help today, not next week.",
]
URGENT_PREFIXES = ["URGENT: ", "Please help! ", "ASAP: ", "Help! "]

ROUTINE_BOOSTERS = [
    "No rush on this.", "Whenever you have a moment.", "Not urgent at all.",
    "Thanks in advance for the info.", "Just curious.", "Any time this week is fine.",
]

# Sentences that carry cues of the *other* class, so bag-of-words is not enough.
DISTRACTORS = {
    ROUTINE: [
        "The login problem I had last month is fixed now, thanks.",
        "After the outage last week everything is back to normal.",
        "The double charge from last year was refunded long ago, so this is a different question.",
        "Not urgent, the security issue you emailed about is already sorted.",
        "The account lock from last week was cleared by your colleague.",
    ],
    URGENT: [
        "I know you normally take a few days to reply, but this can't wait.",
        "I was going to ask about a feature request, but this is more important.",
        "Normally I would just send a thank-you note, but not today.",
        "I wanted to change my plan, but first this has to be fixed.",
    ],
}

# ----------------------------------------------------------------------------------------
# PII building blocks (synthetic)
# ----------------------------------------------------------------------------------------

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony",
    "Sandra", "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda",
    "Kevin", "Melissa", "Brian", "Stephanie", "Maria", "Carlos", "José", "Luis", "Ana",
    "Sofia", "Diego", "Priya", "Rahul", "Anil", "Deepa", "Wei", "Mei", "Hiroshi", "Yuki",
    "Ahmed", "Fatima", "Omar", "Aisha", "Chinedu", "Ngozi", "Kwame", "Amara", "Olga",
    "Dmitri", "Ivan", "Katarzyna", "Piotr", "Lars", "Ingrid", "Sean", "Siobhan", "Giulia",
    "Marco", "Pierre", "Camille", "Hannah", "Noah", "Liam", "Olivia", "Emma", "Ethan",
    "Grace", "Chloe", "Rachel", "Samuel", "Laura", "Peter", "Helen", "George", "Rosa",
    "Miguel", "Elena", "Tariq", "Leila", "Arjun", "Ravi", "Sunita", "Jin", "Hyun",
]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Shah", "Kumar", "Singh", "Chen", "Wang", "Zhang", "Kim", "Park", "Tanaka",
    "Sato", "Nakamura", "Okafor", "Adeyemi", "Mensah", "Hassan", "Ali", "Khan", "Kowalski",
    "Novak", "Ivanova", "Petrov", "O'Brien", "Murphy", "Kelly", "Rossi", "Bianchi",
    "Dubois", "Moreau", "Müller", "Schmidt", "Fischer", "Jensen", "Larsen", "Andersson",
    "Cohen", "Levy", "Reyes", "Morales", "Fernandes", "Silva", "Costa", "Gupta", "Iyer",
    "Yamamoto", "Choi", "Abdullah", "Osei", "Nowak", "Sullivan", "Brennan",
]

EMAIL_DOMAINS_PERSONAL = [
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
    "protonmail.com", "mail.com", "comcast.net", "verizon.net", "att.net", "yahoo.co.uk",
    "btinternet.com", "live.co.uk", "fastmail.com",
]
EMAIL_DOMAINS_COMPANY = [
    "acmecorp.com", "brightwave.io", "northwind-traders.com", "bluepeak.co.uk",
    "greenfield.org", "harborlabs.io", "summitfinance.net", "oakridge-health.org",
    "pixelforge.io", "riverbend.co.uk", "lumenlogistics.com", "cedarpoint-legal.com",
    "silverline.net", "kestrel-analytics.io", "meadowbrook.org", "ironclad-tools.com",
]

# Real US area codes; exchanges are drawn from 200-999 excluding N11 and 555, which
# libphonenumber accepts as valid for these codes.
US_AREA_CODES = [
    "212", "213", "206", "202", "215", "303", "305", "310", "312", "314", "404", "415",
    "503", "512", "602", "612", "617", "646", "702", "704", "713", "718", "720", "801",
    "818", "917", "919", "972", "860", "816",
]
# UK: London (20 7/3/8), Birmingham (121), Manchester (161), Leeds (113) geographic ranges
# (checked against libphonenumber's GB metadata).
UK_PREFIXES = [("20", "7", 3, 4), ("20", "3", 3, 4), ("20", "8", 3, 4),
               ("121", "", 3, 4), ("161", "", 3, 4), ("113", "", 3, 4)]

CITIES = [  # (city, state, ZIP prefixes)
    ("Springfield", "IL", ["627"]), ("Portland", "OR", ["972"]), ("Austin", "TX", ["787"]),
    ("Denver", "CO", ["802"]), ("Seattle", "WA", ["981"]), ("Boston", "MA", ["021"]),
    ("Chicago", "IL", ["606"]), ("Atlanta", "GA", ["303"]), ("Phoenix", "AZ", ["850"]),
    ("Nashville", "TN", ["372"]), ("Columbus", "OH", ["432"]), ("Charlotte", "NC", ["282"]),
    ("San Diego", "CA", ["921"]), ("Sacramento", "CA", ["958"]), ("Dallas", "TX", ["752"]),
    ("Houston", "TX", ["770"]), ("Miami", "FL", ["331"]), ("Tampa", "FL", ["336"]),
    ("Orlando", "FL", ["328"]), ("Minneapolis", "MN", ["554"]), ("Milwaukee", "WI", ["532"]),
    ("Detroit", "MI", ["482"]), ("Cleveland", "OH", ["441"]), ("Pittsburgh", "PA", ["152"]),
    ("Philadelphia", "PA", ["191"]), ("Baltimore", "MD", ["212"]), ("Richmond", "VA", ["232"]),
    ("Raleigh", "NC", ["276"]), ("Louisville", "KY", ["402"]), ("Memphis", "TN", ["381"]),
    ("Albuquerque", "NM", ["871"]), ("Tucson", "AZ", ["857"]), ("Las Vegas", "NV", ["891"]),
    ("Salt Lake City", "UT", ["841"]), ("Boise", "ID", ["837"]), ("Omaha", "NE", ["681"]),
    ("Kansas City", "MO", ["641"]), ("St. Louis", "MO", ["631"]), ("Indianapolis", "IN", ["462"]),
    ("Cincinnati", "OH", ["452"]), ("Madison", "WI", ["537"]), ("Spokane", "WA", ["992"]),
    ("Los Angeles", "CA", ["900"]), ("San Antonio", "TX", ["782"]), ("Jacksonville", "FL", ["322"]),
    ("New Orleans", "LA", ["701"]), ("Buffalo", "NY", ["142"]), ("Hartford", "CT", ["061"]),
]
STREET_NAMES = [
    "Maple", "Oak", "Cedar", "Pine", "Elm", "Washington", "Lincoln", "Park", "Lake", "Hill",
    "Sunset", "Highland", "Church", "Main", "Franklin", "Jefferson", "Madison", "River",
    "Willow", "Birch", "Chestnut", "Spring", "Ridge", "Meadow", "Forest", "Valley", "Harbor",
    "Orchard", "Magnolia", "Prospect", "Walnut", "Jackson", "Cherry", "Hickory", "Lakeview",
    "Mill", "Center", "Union", "Grove", "Summit",
]
STREET_SUFFIXES = [
    "Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court", "Place", "Way",
    "Terrace", "Circle", "Parkway",
]

IBAN_BANKS = {
    "GB": ["NWBK", "BARC", "LOYD", "HBUK", "MIDL"],
    "NL": ["ABNA", "INGB", "RABO", "TRIO", "SNSB"],
}
PUBLIC_FIRST_OCTETS = [
    23, 24, 34, 38, 45, 50, 52, 54, 63, 64, 66, 67, 68, 71, 72, 73, 74, 76, 81, 82, 86, 88,
    91, 93, 95, 96, 98, 104, 107, 108, 128, 131, 134, 138, 142, 147, 151, 159, 162, 164,
    173, 176, 178, 185, 188, 193, 195, 199, 203, 204, 206, 207, 208, 209, 212, 213, 216, 217,
]

# PII sentence templates per kind.  Slot values are recorded as spans; nothing in these
# sentences is meant to hint at urgency, so PII presence stays independent of the label.
PII_TEMPLATES = {
    "PERSON": [
        "My name is {PERSON}.", "This is {PERSON} writing in.", "I'm {PERSON}, the account holder.",
        "The account is under the name {PERSON}.", "My name is {PERSON} and I manage our account.",
        "I'm writing on behalf of my manager, {PERSON}.", "The account holder is {PERSON}.",
    ],
    "PERSON_SIGNOFF": [
        "Thanks,\n{PERSON}", "Best regards,\n{PERSON}", "Kind regards, {PERSON}", "- {PERSON}",
        "Thank you,\n{PERSON}", "Regards, {PERSON}",
    ],
    "EMAIL_ADDRESS": [
        "My email is {EMAIL_ADDRESS}.", "Please reply to {EMAIL_ADDRESS} instead.",
        "The account email is {EMAIL_ADDRESS}.", "You can email me at {EMAIL_ADDRESS}.",
        "The login on file is {EMAIL_ADDRESS}.", "Please copy {EMAIL_ADDRESS} on your reply.",
    ],
    "PHONE_NUMBER": [
        "You can reach me by phone at {PHONE_NUMBER}.", "Call me on {PHONE_NUMBER} if that is easier.",
        "My cell is {PHONE_NUMBER}.", "Best number for me: {PHONE_NUMBER}.",
        "The phone number on the account is {PHONE_NUMBER}.", "Text my mobile on {PHONE_NUMBER}.",
    ],
    "CREDIT_CARD": [
        "The card number is {CREDIT_CARD}.", "I paid with my card {CREDIT_CARD}.",
        "Card on file: {CREDIT_CARD}.", "The payment was made with card number {CREDIT_CARD}.",
        "It is the credit card {CREDIT_CARD}.",
    ],
    "US_SSN": [
        "For verification, my SSN is {US_SSN}.", "My social security number is {US_SSN}.",
        "SSN: {US_SSN}.", "If you need it to verify me, my SSN is {US_SSN}.",
        "The social security number on the application is {US_SSN}.",
    ],
    "ADDRESS": [
        "My address on file is {ADDRESS}.", "Please send any paperwork to {ADDRESS}.",
        "The account is registered at {ADDRESS}.", "Ship to {ADDRESS}.",
        "Our office is at {ADDRESS}.", "The service address is {ADDRESS}.",
    ],
    "IBAN_CODE": [
        "My IBAN is {IBAN_CODE}.", "Bank details for the account: IBAN {IBAN_CODE}.",
        "Refunds can go to IBAN {IBAN_CODE}.", "The IBAN on file is {IBAN_CODE}.",
    ],
    "IP_ADDRESS": [
        "For reference, our server IP is {IP_ADDRESS}.", "The requests come from IP {IP_ADDRESS}.",
        "Our office gateway is {IP_ADDRESS}.", "My public IP address is {IP_ADDRESS}.",
    ],
}
PII_KIND_WEIGHTS = [
    ("PERSON", 26), ("EMAIL_ADDRESS", 20), ("PHONE_NUMBER", 18), ("ADDRESS", 11),
    ("CREDIT_CARD", 9), ("US_SSN", 8), ("IBAN_CODE", 4), ("IP_ADDRESS", 4),
]

_SLOT_RE = re.compile(r"\{([A-Za-z_0-9]+)\}")


# ----------------------------------------------------------------------------------------
# Value generators
# ----------------------------------------------------------------------------------------

def _luhn_check_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _luhn_ok(number: str) -> bool:
    return _luhn_check_digit(number[:-1]) == number[-1]


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


def make_person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _ascii_fold(s: str) -> str:
    table = {"é": "e", "É": "E", "ü": "u", "Ü": "U", "ö": "o", "á": "a", "í": "i", "ó": "o"}
    return "".join(table.get(c, c) for c in s if c.isalnum() or c in "éÉüÜöáíó")


def make_email(rng: random.Random, person: str | None = None) -> str:
    first, last = (person or make_person(rng)).split(" ", 1)
    f, l = _ascii_fold(first).lower(), _ascii_fold(last).lower()
    style = rng.randrange(6)
    if style == 0:
        local = f"{f}.{l}"
    elif style == 1:
        local = f"{f[0]}{l}"
    elif style == 2:
        local = f"{f}_{l}{rng.randint(1, 99)}"
    elif style == 3:
        local = f"{f}{l[0]}{rng.randint(70, 99)}"
    elif style == 4:
        local = f"{f}.{l}{rng.randint(1, 9)}"
    else:
        local = f"{f}{l}"
    domains = EMAIL_DOMAINS_COMPANY if rng.random() < 0.35 else EMAIL_DOMAINS_PERSONAL
    return f"{local}@{rng.choice(domains)}"


def make_phone(rng: random.Random) -> str:
    if rng.random() < 0.1:  # UK number, international format
        area, lead, a, b = rng.choice(UK_PREFIXES)
        if area == "20":
            return f"+44 20 {lead}{_digits(rng, a)} {_digits(rng, b)}"
        # local numbers starting 2-5 are allocated geographic ranges in all three areas
        return f"+44 {area} {rng.randint(2, 5)}{_digits(rng, a - 1)} {_digits(rng, b)}"
    area = rng.choice(US_AREA_CODES)
    while True:
        exch = f"{rng.randint(2, 9)}{_digits(rng, 2)}"
        if exch[1:] != "11" and exch != "555":
            break
    line = _digits(rng, 4)
    fmt = rng.randrange(5)
    if fmt == 0:
        return f"({area}) {exch}-{line}"
    if fmt == 1:
        return f"{area}-{exch}-{line}"
    if fmt == 2:
        return f"+1 {area} {exch} {line}"
    if fmt == 3:
        return f"{area}.{exch}.{line}"
    return f"+1-{area}-{exch}-{line}"


def make_credit_card(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.12:  # American Express, 15 digits, 4-6-5 grouping
        payload = rng.choice(["34", "37"]) + _digits(rng, 12)
        num = payload + _luhn_check_digit(payload)
        groups = [num[:4], num[4:10], num[10:]]
    else:
        prefix = "4" if r < 0.6 else str(rng.randint(51, 55))
        payload = prefix + _digits(rng, 15 - len(prefix))
        num = payload + _luhn_check_digit(payload)
        groups = [num[i:i + 4] for i in range(0, 16, 4)]
    assert _luhn_ok(num)
    sep = rng.choice([" ", " ", "-", ""])
    return sep.join(groups)


_SAMPLE_SSNS = {"123456789", "078051120", "219099999", "987654320", "111223333"}


def make_ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        group = rng.randint(1, 99)
        serial = rng.randint(1, 9999)
        if area == 666:
            continue
        digits = f"{area:03d}{group:02d}{serial:04d}"
        if len(set(digits)) == 1 or digits in _SAMPLE_SSNS:
            continue
        return f"{area:03d}-{group:02d}-{serial:04d}"


def make_address(rng: random.Random) -> tuple[str, str, str]:
    """Return (street part, city, trailing ', ST 12345' or '')."""
    street = f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
    city, state, zips = rng.choice(CITIES)
    tail = ""
    if rng.random() < 0.7:
        tail = f", {state} {rng.choice(zips)}{_digits(rng, 2)}"
    return street, city, tail


def _iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_is_valid(iban: str) -> bool:
    s = iban.replace(" ", "")
    numeric = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(numeric) % 97 == 1


def make_iban(rng: random.Random) -> str:
    country = rng.choice(["DE", "GB", "FR", "NL"])
    if country == "DE":
        bban = _digits(rng, 8) + _digits(rng, 10)
    elif country == "GB":
        bban = rng.choice(IBAN_BANKS["GB"]) + _digits(rng, 6) + _digits(rng, 8)
    elif country == "NL":
        bban = rng.choice(IBAN_BANKS["NL"]) + _digits(rng, 10)
    else:  # FR: bank(5) branch(5) account(11) RIB key(2)
        bank, branch, account = _digits(rng, 5), _digits(rng, 5), _digits(rng, 11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        bban = f"{bank}{branch}{account}{key:02d}"
    iban = country + _iban_check_digits(country, bban) + bban
    assert iban_is_valid(iban)
    if rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def make_ip(rng: random.Random) -> str:
    return (f"{rng.choice(PUBLIC_FIRST_OCTETS)}.{rng.randint(0, 255)}."
            f"{rng.randint(0, 255)}.{rng.randint(1, 254)}")


# ----------------------------------------------------------------------------------------
# Text assembly with span tracking
# ----------------------------------------------------------------------------------------

Segment = tuple[str, "str | None"]  # (text, entity_type or None)


def _fill(template: str, rng: random.Random, values: dict[str, list[Segment]] | None = None,
          ) -> list[Segment]:
    """Render a template into segments; ``values`` maps PII slots to pre-built segments."""
    out: list[Segment] = []
    pos = 0
    used: dict[str, str] = {}
    for m in _SLOT_RE.finditer(template):
        if m.start() > pos:
            out.append((template[pos:m.start()], None))
        slot = m.group(1)
        if values and slot in values:
            out.extend(values[slot])
        elif slot == "plan2":
            choices = [p for p in SLOTS["plan"] if p != used.get("plan")]
            out.append((rng.choice(choices), None))
        elif slot == "invoice":
            out.append((f"INV-{rng.randint(10000, 99999)}", None))
        elif slot == "order":
            out.append((f"#{rng.randint(100000, 999999)}", None))
        else:
            val = rng.choice(SLOTS[slot])
            used[slot] = val
            out.append((val, None))
        pos = m.end()
    if pos < len(template):
        out.append((template[pos:], None))
    # Capitalise a sentence that starts with a slot value ("the mobile app ..." -> "The ...").
    if out and out[0][1] is None and out[0][0][:1].islower():
        out[0] = (out[0][0][0].upper() + out[0][0][1:], None)
    return out


def _plain(text: str) -> list[Segment]:
    return [(text, None)]


def _pii_segments(kind: str, rng: random.Random, person: str | None) -> list[Segment]:
    if kind == "PERSON":
        return [(person or make_person(rng), "PERSON")]
    if kind == "EMAIL_ADDRESS":
        use_name = person if (person and rng.random() < 0.5) else None
        return [(make_email(rng, use_name), "EMAIL_ADDRESS")]
    if kind == "PHONE_NUMBER":
        return [(make_phone(rng), "PHONE_NUMBER")]
    if kind == "CREDIT_CARD":
        return [(make_credit_card(rng), "CREDIT_CARD")]
    if kind == "US_SSN":
        return [(make_ssn(rng), "US_SSN")]
    if kind == "ADDRESS":
        street, city, tail = make_address(rng)
        segs: list[Segment] = [(street, "STREET_ADDRESS"), (", ", None), (city, "LOCATION")]
        if tail:
            segs.append((tail, None))
        return segs
    if kind == "IBAN_CODE":
        return [(make_iban(rng), "IBAN_CODE")]
    if kind == "IP_ADDRESS":
        return [(make_ip(rng), "IP_ADDRESS")]
    raise ValueError(kind)


def _weighted_sample(rng: random.Random, items: list[tuple[str, int]], k: int) -> list[str]:
    pool = list(items)
    picked: list[str] = []
    for _ in range(min(k, len(pool))):
        total = sum(w for _, w in pool)
        x = rng.uniform(0, total)
        acc = 0.0
        for idx, (name, w) in enumerate(pool):
            acc += w
            if x <= acc:
                break
        picked.append(pool.pop(idx)[0])
    return picked


def _word_count(sentences: list[list[Segment]]) -> int:
    return sum(len("".join(t for t, _ in s).split()) for s in sentences)


def _compose(rng: random.Random, kind: str, pii_kinds: list[str], pii_rng: random.Random,
             ) -> tuple[str, list[tuple[int, int, str]]]:
    """Build one message.  ``kind`` is urgent / routine / ambiguous."""
    core: list[list[Segment]] = []
    if kind == "ambiguous":
        core.append(_fill(rng.choice(AMBIGUOUS_TEMPLATES), rng))
        if rng.random() < 0.25:
            core.append(_fill(rng.choice(AMBIGUOUS_TEMPLATES), rng))
    else:
        pool = URGENT_TEMPLATES if kind == URGENT else ROUTINE_TEMPLATES
        first = rng.choice(pool)
        core.append(_fill(first, rng))
        if rng.random() < 0.35:
            second = rng.choice([t for t in pool if t != first])
            core.append(_fill(second, rng))
        if rng.random() < 0.10:
            core.insert(rng.randint(0, len(core)), _plain(rng.choice(DISTRACTORS[kind])))

    fillers: list[list[Segment]] = []
    if rng.random() < 0.45:
        fillers.append(_fill(rng.choice(FILLERS), rng))

    booster: list[Segment] | None = None
    prefix = ""
    if kind == URGENT:
        if rng.random() < 0.30:
            booster = _plain(rng.choice(URGENT_BOOSTERS))
        if rng.random() < 0.10:
            prefix = rng.choice(URGENT_PREFIXES)
    elif kind == ROUTINE and rng.random() < 0.25:
        booster = _plain(rng.choice(ROUTINE_BOOSTERS))

    # PII sentences (their own random stream, so PII never depends on the label).
    person = make_person(pii_rng) if "PERSON" in pii_kinds or (
        "EMAIL_ADDRESS" in pii_kinds and pii_rng.random() < 0.3) else None
    intro: list[list[Segment]] = []
    pii_sents: list[list[Segment]] = []
    signoff: list[Segment] | None = None
    for pk in pii_kinds:
        segs = _pii_segments(pk, pii_rng, person)
        if pk == "PERSON":
            if pii_rng.random() < 0.35:
                signoff = _fill(pii_rng.choice(PII_TEMPLATES["PERSON_SIGNOFF"]), pii_rng,
                                {"PERSON": segs})
            else:
                intro.append(_fill(pii_rng.choice(PII_TEMPLATES["PERSON"]), pii_rng,
                                   {"PERSON": segs}))
        else:
            pii_sents.append(_fill(pii_rng.choice(PII_TEMPLATES[pk]), pii_rng, {pk: segs}))

    opener = rng.choice(OPENERS) if rng.random() < 0.65 else ""
    closer = rng.choice(CLOSERS) if rng.random() < 0.6 else ""

    body: list[list[Segment]] = list(core)
    for f in fillers:
        body.insert(rng.randint(0, len(body)), f)
    sentences: list[list[Segment]] = intro + body + pii_sents
    if booster:
        sentences.append(booster)
    # Pad very short messages with a neutral filler.
    while _word_count(sentences) < 15:
        sentences.insert(len(intro) + rng.randint(0, len(body)), _fill(rng.choice(FILLERS), rng))

    parts: list[Segment] = []
    if opener:
        parts.append((opener + ("\n" if rng.random() < 0.4 else " "), None))
    if prefix:
        parts.append((prefix, None))
    for i, s in enumerate(sentences):
        if i:
            parts.append((" ", None))
        parts.extend(s)
    if signoff:
        parts.append(("\n" if rng.random() < 0.5 else " ", None))
        parts.extend(signoff)
    elif closer:
        parts.append((" ", None))
        parts.append((closer, None))

    text_parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    offset = 0
    for t, etype in parts:
        if etype:
            spans.append((offset, offset + len(t), etype))
        text_parts.append(t)
        offset += len(t)
    text = "".join(text_parts)
    for (s, e, _), value in zip(spans, [t for t, et in parts if et]):
        assert text[s:e] == value
    return text, spans


# ----------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------

GENDERS = [("female", 48), ("male", 48), ("non-binary", 4)]
AGE_BANDS = [("18-29", 27), ("30-44", 31), ("45-59", 25), ("60+", 17)]


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in items], weights=[w for _, w in items], k=1)[0]


def generate(n: int = 3000, *, seed: int = 13, pii_rate: float = 0.33,
             ) -> tuple[list[dict], list[dict]]:
    """Generate ``n`` synthetic tickets.

    Returns ``(records, spans)``: records are dicts with the CSV columns; spans are dicts
    ``{"record", "ticket_id", "start", "end", "entity_type"}`` locating each planted PII
    value in ``records[record]["text"]``.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= pii_rate <= 1.0:
        raise ValueError("pii_rate must be in [0, 1]")
    # Independent streams: text/label, sensitive attributes, PII.
    text_rng = random.Random(f"support-tickets/text/{seed}")
    demo_rng = random.Random(f"support-tickets/demographics/{seed}")
    pii_rng = random.Random(f"support-tickets/pii/{seed}")

    records: list[dict] = []
    spans_out: list[dict] = []
    for i in range(n):
        ticket_id = f"TKT-{i + 1:05d}"
        r = text_rng.random()
        if r < 0.08:
            kind = "ambiguous"
            label = URGENT if text_rng.random() < 0.5 else ROUTINE
        else:
            kind = URGENT if text_rng.random() < 0.40 else ROUTINE
            label = kind
            if text_rng.random() < 0.07:  # label noise
                label = ROUTINE if label == URGENT else URGENT

        pii_kinds: list[str] = []
        if pii_rng.random() < pii_rate:
            k = pii_rng.choices([1, 2, 3], weights=[60, 28, 12], k=1)[0]
            pii_kinds = _weighted_sample(pii_rng, PII_KIND_WEIGHTS, k)

        text, spans = _compose(text_rng, kind, pii_kinds, pii_rng)

        gender = _weighted(demo_rng, GENDERS)
        if demo_rng.random() < 0.03:
            gender = ""
        age_band = _weighted(demo_rng, AGE_BANDS)

        records.append({"ticket_id": ticket_id, "text": text, "label": label,
                        "gender": gender, "age_band": age_band})
        for s, e, etype in spans:
            spans_out.append({"record": i, "ticket_id": ticket_id, "start": s, "end": e,
                              "entity_type": etype})
    return records, spans_out


def write(records: list[dict], spans: list[dict], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "tickets.csv"
    spans_path = out_dir / "pii_spans.jsonl"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDNAMES, lineterminator="\n",
                                quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(records)
    with spans_path.open("w", encoding="utf-8", newline="") as fh:
        for sp in spans:
            fh.write(json.dumps(sp, ensure_ascii=False) + "\n")
    return csv_path, spans_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="number of tickets (default 3000)")
    parser.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    parser.add_argument("--pii-rate", type=float, default=0.33,
                        help="share of tickets carrying planted PII (default 0.33)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output directory (default: beside this script)")
    args = parser.parse_args(argv)
    records, spans = generate(args.n, seed=args.seed, pii_rate=args.pii_rate)
    csv_path, spans_path = write(records, spans, args.out)
    n_urgent = sum(r["label"] == URGENT for r in records)
    n_pii = len({s["record"] for s in spans})
    print(f"wrote {csv_path} ({len(records)} rows, {n_urgent} urgent, {n_pii} with PII)")
    print(f"wrote {spans_path} ({len(spans)} spans)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
